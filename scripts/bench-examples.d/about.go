// The govmomi side of `about` for scripts/bench-examples: connect as govc does, then print
// the ServiceContent's AboutInfo as an aligned table.
// Usage: about URL-with-user-and-password
package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
)

func main() {
	c := connect(context.Background(), os.Args[1])
	a := c.ServiceContent.About
	w := tabwriter.NewWriter(os.Stdout, 2, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Field\tValue\n")
	for _, kv := range [][2]string{{"Name", a.Name}, {"Vendor", a.Vendor}, {"Version", a.Version},
		{"Build", a.Build}, {"OS type", a.OsType}, {"API type", a.ApiType},
		{"API version", a.ApiVersion}, {"Product ID", a.ProductLineId}, {"UUID", a.InstanceUuid}} {
		fmt.Fprintf(w, "%s\t%s\n", kv[0], kv[1])
	}
	w.Flush()
}
