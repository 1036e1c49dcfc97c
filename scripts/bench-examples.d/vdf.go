// The govmomi side of `vdf` for scripts/bench-examples: connect as govc does, then the same
// calls as the Rust example: a ContainerView of every Datastore, one retrieval of `summary`,
// DestroyView; prints name, type, capacity, free, provisioned and use, aligned.
// Usage: vdf URL-with-user-and-password
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/vmware/govmomi/units"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/types"
)

func main() {
	ctx := context.Background()
	c := connect(ctx, os.Args[1])
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"Datastore"}, true)
	if err != nil {
		fail(err)
	}
	objs := retrieveAll(ctx, c, viewSpec(v.Reference(), map[string][]string{"Datastore": {"summary"}}))
	if err := v.Destroy(ctx); err != nil {
		fail(err)
	}
	var sums []types.DatastoreSummary
	for _, o := range objs {
		for _, p := range o.PropSet {
			if s, ok := p.Val.(types.DatastoreSummary); ok {
				sums = append(sums, s)
			}
		}
	}
	sort.Slice(sums, func(i, j int) bool { return sums[i].Name < sums[j].Name })
	w := tabwriter.NewWriter(os.Stdout, 2, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "Name\tType\tCapacity\tFree\tProvisioned\tUsed\tProv\t\n")
	for _, s := range sums {
		prov := s.Capacity - s.FreeSpace + s.Uncommitted
		pct := func(n int64) string {
			if s.Capacity <= 0 {
				return "-"
			}
			return fmt.Sprintf("%d%%", (n*100+s.Capacity/2)/s.Capacity)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Name, s.Type, units.ByteSize(s.Capacity),
			units.ByteSize(s.FreeSpace), units.ByteSize(prov), pct(s.Capacity-s.FreeSpace), pct(prov))
	}
	w.Flush()
}
