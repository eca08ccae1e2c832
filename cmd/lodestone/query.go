package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"

	"lodestone/api"
)

// dtmiPattern finds the model ids quoted in a query.
var dtmiPattern = regexp.MustCompile(`dtmi:[A-Za-z0-9_:]+(;[0-9]+(\.[0-9]+)?)?`)

func init() {
	fs := flag.NewFlagSet("lodestone query", flag.ContinueOnError)
	t := &target{}
	t.flags(fs, true)
	all := fs.Bool("all", true, "follow continuation tokens to the last page")
	register(&command{
		name:      "query",
		usage:     "'SELECT …' [--server URL | --data DIR] [--json]",
		shortHelp: "run a query against a server or a data directory (ADT query language plus ORDER BY, GROUP BY, MATCH, AS OF)",
		flags:     fs,
		exec: func(ctx context.Context, env *cliEnv, args []string) error {
			if len(args) != 1 {
				return usageError{"query: want the query as one argument (quote it)"}
			}
			q := args[0]
			if q == "-" {
				b, err := io.ReadAll(env.stdin)
				if err != nil {
					return err
				}
				q = string(b)
			}
			c, stop, err := t.connect(ctx)
			if err != nil {
				return err
			}
			defer stop()
			var rows []map[string]any
			charge := 0.0
			token := ""
			for {
				res, err := c.Query(ctx, q, token)
				if err != nil {
					return apiError(err)
				}
				rows = append(rows, res.Value...)
				charge += res.QueryCharge
				token = res.ContinuationToken
				if token == "" || !*all {
					break
				}
			}
			if t.json {
				out := api.QueryResponse{Value: rows, ContinuationToken: token, QueryCharge: charge}
				if out.Value == nil {
					out.Value = []map[string]any{}
				}
				return printJSON(env.stdout, out)
			}
			printRows(env.stdout, rows)
			fmt.Fprintf(env.stderr, "%d rows, %g rows scanned\n", len(rows), charge)
			if len(rows) == 0 {
				// No rows may be the answer, or a mistyped model id.
				for _, id := range dtmiPattern.FindAllString(q, -1) {
					warnUnknownModel(ctx, env, c, id)
				}
			}
			return nil
		},
	})
}

// printRows prints query rows as a table: one column per key, twins and
// relationships shown by their ids.
func printRows(w io.Writer, rows []map[string]any) {
	colSet := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			colSet[k] = true
		}
	}
	cols := make([]string, 0, len(colSet))
	for k := range colSet {
		cols = append(cols, k)
	}
	sort.Slice(cols, func(i, j int) bool {
		// $dtId first, then system properties, then the rest.
		a, b := cols[i], cols[j]
		if (a == "$dtId") != (b == "$dtId") {
			return a == "$dtId"
		}
		if strings.HasPrefix(a, "$") != strings.HasPrefix(b, "$") {
			return strings.HasPrefix(a, "$")
		}
		return a < b
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(r[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case map[string]any:
		if id, ok := x["$dtId"].(string); ok {
			return id
		}
		if _, ok := x["$relationshipId"].(string); ok {
			return fmt.Sprintf("%v-[%v]->%v", x["$sourceId"], x["$relationshipName"], x["$targetId"])
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}
