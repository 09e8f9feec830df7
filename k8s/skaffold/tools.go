//go:build tools

// The skaffold command, so that go mod tidy keeps what it needs.
package tools

import _ "github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold"
