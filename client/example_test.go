package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"lodestone/api"
	"lodestone/client"
	"lodestone/server"
	"lodestone/twin"
)

// exampleServer starts a Lodestone server with an empty store in a
// temporary directory; stop shuts it down and removes the directory.
func exampleServer() (url string, stop func()) {
	dir, err := os.MkdirTemp("", "lodestone-example")
	if err != nil {
		log.Fatal(err)
	}
	o := server.DefaultOptions()
	o.DataDir = dir
	o.HTTPAddr = "127.0.0.1:0"
	s, err := server.New(o)
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	return s.URL(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		os.RemoveAll(dir)
	}
}

const mineModel = `{"@context":"dtmi:dtdl:context;3","@id":"dtmi:example:Mine;1","@type":"Interface",
	"contents":[{"@type":"Property","name":"name","schema":"string","writable":true},
	            {"@type":"Property","name":"capacity","schema":"double","writable":true}]}`

func ExampleClient_GetTwin() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c := client.New(url, nil)

	if _, err := c.UploadModels(ctx, []json.RawMessage{json.RawMessage(mineModel)}); err != nil {
		log.Fatal(err)
	}
	mine := twin.Twin{ID: "mine-1", Metadata: twin.Metadata{Model: "dtmi:example:Mine;1"}, Properties: map[string]any{"name": "Mount Weld"}}
	if _, err := c.PutTwin(ctx, mine, true); err != nil {
		log.Fatal(err)
	}
	t, err := c.GetTwin(ctx, "mine-1", time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.ID, t.Metadata.Model, t.Properties["name"])
	// Output: mine-1 dtmi:example:Mine;1 Mount Weld
}

func ExampleClient_PatchTwin() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c := client.New(url, nil)
	if _, err := c.UploadModels(ctx, []json.RawMessage{json.RawMessage(mineModel)}); err != nil {
		log.Fatal(err)
	}
	put, err := c.PutTwin(ctx, twin.Twin{ID: "mine-1", Metadata: twin.Metadata{Model: "dtmi:example:Mine;1"}}, true)
	if err != nil {
		log.Fatal(err)
	}

	// A patch under the ETag of the version read.
	if _, err := c.PatchTwin(ctx, "mine-1", twin.Patch{{Op: twin.OpAdd, Path: "/capacity", Value: 12.5}}, put.ETag); err != nil {
		log.Fatal(err)
	}
	// The same ETag again is stale now.
	_, err = c.PatchTwin(ctx, "mine-1", twin.Patch{{Op: twin.OpReplace, Path: "/capacity", Value: 13}}, put.ETag)
	var ce *client.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Status, ce.Code)
	}
	// A value that does not fit the model is refused, naming the property.
	_, err = c.PatchTwin(ctx, "mine-1", twin.Patch{{Op: twin.OpReplace, Path: "/capacity", Value: "big"}}, "")
	if errors.As(err, &ce) {
		fmt.Println(ce.Status, ce.Code, ce.Details[0].Path)
	}
	t, _ := c.GetTwin(ctx, "mine-1", time.Time{})
	fmt.Println(t.Properties["capacity"])
	// Output:
	// 412 PreconditionFailed
	// 400 ValidationFailed /capacity
	// 12.5
}

func ExampleClient_QueryAll() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	c := client.New(url, nil)
	if _, err := c.UploadModels(ctx, []json.RawMessage{json.RawMessage(mineModel)}); err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"Mount Weld", "Mountain Pass", "Bayan Obo"} {
		t := twin.Twin{ID: twin.ID(fmt.Sprintf("mine-%d", i)), Metadata: twin.Metadata{Model: "dtmi:example:Mine;1"}, Properties: map[string]any{"name": name}}
		if _, err := c.PutTwin(ctx, t, true); err != nil {
			log.Fatal(err)
		}
	}
	err := c.QueryAll(ctx, "SELECT M.name FROM DIGITALTWINS M WHERE STARTSWITH(M.name, 'Mount') ORDER BY M.name", func(page api.QueryResponse) error {
		for _, row := range page.Value {
			fmt.Println(row["name"])
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// Mount Weld
	// Mountain Pass
}
