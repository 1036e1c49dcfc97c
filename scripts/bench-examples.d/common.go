// Shared by the govmomi comparison programs of scripts/bench-examples (built with each of
// them: `go build about.go common.go`).
package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/vmware/govmomi/session/cache"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// connect logs in as govc does: the session is cached in $GOVMOMI_HOME/sessions and reused
// after one validity check (SessionManager.currentSession).
func connect(ctx context.Context, raw string) *vim25.Client {
	u, err := url.Parse(raw)
	if err != nil {
		fail(err)
	}
	c := new(vim25.Client)
	s := &cache.Session{URL: u, Insecure: true}
	if err := s.Login(ctx, c, nil); err != nil {
		fail(err)
	}
	return c
}

// viewSpec reads pathsOf[type] of each object a view shows.
func viewSpec(view types.ManagedObjectReference, pathsOf map[string][]string) types.PropertyFilterSpec {
	spec := types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{
			Obj:  view,
			Skip: types.NewBool(true),
			SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{
				Type: "ContainerView", Path: "view", Skip: types.NewBool(false),
			}},
		}},
	}
	for t, paths := range pathsOf {
		spec.PropSet = append(spec.PropSet, types.PropertySpec{Type: t, PathSet: paths})
	}
	return spec
}

// retrieveAll sends RetrievePropertiesEx (1,000 objects a page) and follows the pages.
func retrieveAll(ctx context.Context, c *vim25.Client, spec types.PropertyFilterSpec) []types.ObjectContent {
	pc := c.ServiceContent.PropertyCollector
	res, err := methods.RetrievePropertiesEx(ctx, c, &types.RetrievePropertiesEx{
		This: pc, SpecSet: []types.PropertyFilterSpec{spec}, Options: types.RetrieveOptions{MaxObjects: 1000},
	})
	if err != nil {
		fail(err)
	}
	var out []types.ObjectContent
	r := res.Returnval
	for r != nil {
		out = append(out, r.Objects...)
		if r.Token == "" {
			break
		}
		cres, err := methods.ContinueRetrievePropertiesEx(ctx, c, &types.ContinueRetrievePropertiesEx{This: pc, Token: r.Token})
		if err != nil {
			fail(err)
		}
		r = &cres.Returnval
	}
	return out
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
	os.Exit(1)
}
