// etcd for the test control plane: Debian ships etcd 3.4, older than kube-apiserver accepts.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
