// The govmomi side of `ls -l PATH` for scripts/bench-examples: connect as govc does, then
// the same calls as the Rust example: FindByInventoryPath, a ContainerView of the path's
// children, one paged retrieval of name, parent and each type's state, DestroyView; prints
// "path  type  state" aligned, sorted by path.
// Usage: ls URL-with-user-and-password PATH
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"text/tabwriter"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/view"
)

var statePath = map[string]string{
	"Folder": "overallStatus", "Datacenter": "overallStatus", "ComputeResource": "overallStatus",
	"ClusterComputeResource": "overallStatus", "HostSystem": "runtime.connectionState",
	"ResourcePool": "overallStatus", "VirtualApp": "overallStatus", "VirtualMachine": "runtime.powerState",
	"Datastore": "summary.accessible", "StoragePod": "overallStatus", "Network": "overallStatus",
	"OpaqueNetwork": "overallStatus", "DistributedVirtualPortgroup": "overallStatus",
	"VmwareDistributedVirtualSwitch": "overallStatus",
}

func main() {
	ctx := context.Background()
	c := connect(ctx, os.Args[1])
	path := os.Args[2]
	ref, err := object.NewSearchIndex(c).FindByInventoryPath(ctx, path)
	if err != nil || ref == nil {
		fail(fmt.Errorf("%s: not found (%v)", path, err))
	}
	v, err := view.NewManager(c).CreateContainerView(ctx, ref.Reference(), nil, false)
	if err != nil {
		fail(err)
	}
	pathsOf := map[string][]string{}
	for t, p := range statePath {
		pathsOf[t] = []string{"name", "parent", p}
	}
	objs := retrieveAll(ctx, c, viewSpec(v.Reference(), pathsOf))
	if err := v.Destroy(ctx); err != nil {
		fail(err)
	}
	type row struct{ path, kind, state string }
	var rows []row
	for _, o := range objs {
		r := row{kind: o.Obj.Type, state: "-"}
		for _, p := range o.PropSet {
			switch p.Name {
			case "name":
				r.path = path + "/" + fmt.Sprint(p.Val)
			case "parent":
			default:
				r.state = fmt.Sprint(p.Val)
			}
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].path < rows[j].path })
	w := tabwriter.NewWriter(os.Stdout, 2, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Path\tType\tState\n")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.path, r.kind, r.state)
	}
	w.Flush()
}
