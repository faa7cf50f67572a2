// CoreDNS with only the plugins the real node's cluster DNS uses (test/infra/node.sh): the stock
// build links every plugin, cloud SDKs included, and takes many minutes more to compile.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The order in which the plugins see a query: CoreDNS's own order, cut to those above.
func init() {
	dnsserver.Directives = []string{"reload", "ready", "health", "errors", "cache", "kubernetes", "loop"}
}

func main() {
	coremain.Run()
}
