package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/civicarchive/civicarchive/records/bagit"
)

// newVerifyCmd checks a bundle (a BagIt bag in a ZIP) with no server and
// no catalog: anyone holding the file can run it.
func newVerifyCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "verify BUNDLE.zip",
		Short: "Check an export or release bundle; exit 0 when intact, 1 naming the first bad file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := bagit.VerifyFile(args[0])
			var p *bagit.Problem
			if errors.As(err, &p) {
				return fmt.Errorf("bundle %s is NOT intact: %s", args[0], p.Error())
			}
			if err != nil {
				return fmt.Errorf("cannot check %s: %w", args[0], err)
			}
			fmt.Fprintf(e.stdout, "bundle %s is intact: bag %s, %d payload files, %d bytes, every checksum and the Payload-Oxum match\n",
				args[0], rep.Dir, rep.Files, rep.Bytes)
			return nil
		},
	}
}
