package dtdl_test

import (
	"errors"
	"fmt"

	"lodestone/dtdl"
)

const exampleModel = `{
  "@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"],
  "@id": "dtmi:example:Mine;1",
  "@type": "Interface",
  "contents": [
    {"@type": "Property", "name": "name", "schema": "string"},
    {"@type": ["Property", "Mass"], "name": "reserves", "schema": "double", "unit": "tonne"},
    {"@type": "Relationship", "name": "supplies", "maxMultiplicity": 5}
  ]
}`

func ExampleParse() {
	ms, err := dtdl.Parse([]dtdl.Document{{Name: "mine.json", Data: []byte(exampleModel)}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	mine := ms.Interface("dtmi:example:Mine;1")
	for _, name := range mine.ContentNames() {
		fmt.Println(name, mine.Content(name).Kind())
	}
	fmt.Println(mine.Property("reserves").Unit)
	// Output:
	// name Property
	// reserves Property
	// supplies Relationship
	// tonne
}

func ExampleParse_errors() {
	bad := `{"@context": "dtmi:dtdl:context;3", "@id": "dtmi:example:Bad;1", "@type": "Interface",
	  "contents": [{"@type": "Property", "name": "2fast", "schema": "double"}, {"@type": "Telemetry", "name": "t"}]}`
	_, err := dtdl.ParseOne("bad.json", []byte(bad), nil)
	var el *dtdl.ErrorList
	if errors.As(err, &el) {
		for _, e := range el.Errors {
			fmt.Println(e.Path, e.Rule)
		}
	}
	// Output:
	// $.contents[0].name pattern
	// $.contents[1] property-required
}

func ExampleInterface_ValidateTwin() {
	ms, _ := dtdl.ParseOne("mine.json", []byte(exampleModel), nil)
	mine := ms.Interface("dtmi:example:Mine;1")
	err := mine.ValidateTwin(map[string]any{
		"$dtId":     "mount-weld",
		"$metadata": map[string]any{"$model": "dtmi:example:Mine;1"},
		"name":      "Mount Weld",
		"reserves":  "a lot",
		"owner":     "Lynas",
	})
	var el *dtdl.ErrorList
	if errors.As(err, &el) {
		for _, e := range el.Errors {
			fmt.Println(e.ID, e.Path, e.Rule)
		}
	}
	// Output:
	// mount-weld /owner property-unknown
	// mount-weld /reserves schema-type
}

func ExampleInterface_ValidateProperty() {
	ms, _ := dtdl.ParseOne("mine.json", []byte(exampleModel), nil)
	mine := ms.Interface("dtmi:example:Mine;1")
	fmt.Println(mine.ValidateProperty("/reserves", 1.2e6))
	fmt.Println(mine.ValidateProperty("/reserves", "many"))
	// Output:
	// <nil>
	// dtdl: /reserves: schema-type: value "many" is not a number (double)
}
