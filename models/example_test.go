package models_test

import (
	"encoding/json"
	"fmt"

	"lodestone/models"
)

func ExampleFiles() {
	files := models.Files()
	fmt.Println(len(files), "interfaces")
	for _, f := range files {
		var head struct {
			ID      string `json:"@id"`
			Extends any    `json:"extends"`
		}
		if err := json.Unmarshal(f.Data, &head); err != nil {
			panic(err)
		}
		if head.ID == models.Mine {
			fmt.Println(f.Name, head.ID, "extends", head.Extends)
		}
	}
	// Output:
	// 48 interfaces
	// Mine.json dtmi:lodestone:Mine;1 extends dtmi:lodestone:Facility;1
}
