//go:build !unix

package notify

import "io/fs"

// fileID is unavailable here; size and modification time must do.
func fileID(fs.FileInfo) uint64 { return 0 }
