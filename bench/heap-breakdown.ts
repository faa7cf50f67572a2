import { getHeapSnapshot } from 'node:v8';

/**
 * Where the memory of many objects of one class goes: a V8 heap snapshot of this process, its
 * dominator tree (Cooper, Harvey and Kennedy's iterative algorithm over the strong edges), and
 * the self sizes of everything each `owner` instance retains alone, summed by path from the
 * owner (field names; array indices as []) and by constructor. Divided by the instance count,
 * that is what one instance costs and where. Costs seconds and a few times the heap in memory:
 * for heaps up to a few hundred MB.
 */
export interface HeapBreakdown {
  readonly owners: number;
  /** Bytes retained by the owners together (their own size included). */
  readonly retained: number;
  /** Self bytes by path from an owner, largest first ('' is the owner itself). */
  readonly byPath: readonly (readonly [string, number])[];
  /** Self bytes by node type and name (constructor for objects), largest first. */
  readonly byConstructor: readonly (readonly [string, number])[];
}

interface Snapshot {
  readonly snapshot: {
    readonly meta: {
      readonly node_fields: string[];
      readonly node_types: [string[], ...unknown[]];
      readonly edge_fields: string[];
      readonly edge_types: [string[], ...unknown[]];
    };
  };
  readonly nodes: number[];
  readonly edges: number[];
  readonly strings: string[];
}

async function takeSnapshot(): Promise<Snapshot> {
  const chunks: string[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
  return JSON.parse(chunks.join('')) as Snapshot;
}

export async function heapBreakdown(owner: string, depth = 3): Promise<HeapBreakdown> {
  const snap = await takeSnapshot();
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nType = meta.node_fields.indexOf('type');
  const nName = meta.node_fields.indexOf('name');
  const nSize = meta.node_fields.indexOf('self_size');
  const nEdges = meta.node_fields.indexOf('edge_count');
  const eType = meta.edge_fields.indexOf('type');
  const eName = meta.edge_fields.indexOf('name_or_index');
  const eTo = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const weak = edgeTypes.indexOf('weak');
  const shortcut = edgeTypes.indexOf('shortcut');
  const named = new Set(['context', 'property', 'internal', 'shortcut'].map((t) => edgeTypes.indexOf(t)));
  const { nodes, edges, strings } = snap;
  const count = nodes.length / nf;
  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) firstEdge[i + 1] = (firstEdge[i] as number) + (nodes[i * nf + nEdges] as number) * ef;
  const strong = (e: number) => edges[e + eType] !== weak && edges[e + eType] !== shortcut;

  // Depth-first postorder from the root (node 0) over strong edges.
  const order = new Int32Array(count).fill(-1);
  const post: number[] = [];
  const stack = [0];
  const cursor = new Uint32Array(count);
  order[0] = -2;
  for (let i = 0; i < count; i++) cursor[i] = firstEdge[i] as number;
  while (stack.length > 0) {
    const v = stack[stack.length - 1] as number;
    const end = firstEdge[v + 1] as number;
    let pushed = false;
    while ((cursor[v] as number) < end) {
      const e = cursor[v] as number;
      cursor[v] = e + ef;
      if (!strong(e)) continue;
      const w = (edges[e + eTo] as number) / nf;
      if (order[w] !== -1) continue;
      order[w] = -2;
      stack.push(w);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      order[v] = post.length;
      post.push(v);
    }
  }
  // Predecessors over strong edges, reachable nodes only.
  const predCount = new Uint32Array(count + 1);
  for (let v = 0; v < count; v++) {
    if ((order[v] as number) < 0) continue;
    for (let e = firstEdge[v] as number; e < (firstEdge[v + 1] as number); e += ef) {
      if (!strong(e)) continue;
      const w = (edges[e + eTo] as number) / nf + 1;
      predCount[w] = (predCount[w] as number) + 1;
    }
  }
  for (let i = 0; i < count; i++) predCount[i + 1] = (predCount[i + 1] as number) + (predCount[i] as number);
  const preds = new Uint32Array(predCount[count] as number);
  const fill = predCount.slice(0, count);
  for (let v = 0; v < count; v++) {
    if ((order[v] as number) < 0) continue;
    for (let e = firstEdge[v] as number; e < (firstEdge[v + 1] as number); e += ef) {
      if (!strong(e)) continue;
      const w = (edges[e + eTo] as number) / nf;
      const at = fill[w] as number;
      preds[at] = v;
      fill[w] = at + 1;
    }
  }
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number): number => {
    let x = a;
    let y = b;
    while (x !== y) {
      while ((order[x] as number) < (order[y] as number)) x = idom[x] as number;
      while ((order[y] as number) < (order[x] as number)) y = idom[y] as number;
    }
    return x;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = post.length - 2; k >= 0; k--) {
      const v = post[k] as number;
      let d = -1;
      for (let p = predCount[v] as number; p < (predCount[v + 1] as number); p++) {
        const u = preds[p] as number;
        if (idom[u] === -1) continue;
        d = d === -1 ? u : intersect(u, d);
      }
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }

  // The edge name from a node's immediate dominator to it, when the dominator points at it.
  const edgeName = (from: number, to: number): string => {
    for (let e = firstEdge[from] as number; e < (firstEdge[from + 1] as number); e += ef) {
      if ((edges[e + eTo] as number) / nf !== to) continue;
      const t = edges[e + eType] as number;
      return named.has(t) ? (strings[edges[e + eName] as number] as string) : '[]';
    }
    return '~';
  };
  const isOwner = (v: number) =>
    nodeTypes[nodes[v * nf + nType] as number] === 'object' && strings[nodes[v * nf + nName] as number] === owner;
  // Reverse postorder visits a node's immediate dominator before the node.
  const labels: (string | null)[] = new Array(count).fill(null);
  const levels = new Uint8Array(count);
  const byPath = new Map<string, number>();
  const byConstructor = new Map<string, number>();
  let owners = 0;
  let retained = 0;
  for (let k = post.length - 2; k >= 0; k--) {
    const v = post[k] as number;
    const d = idom[v] as number;
    let path: string | null;
    if (isOwner(v)) {
      path = '';
      owners++;
    } else {
      const up = labels[d] as string | null;
      if (up === null) path = null;
      else if ((levels[d] as number) >= depth) path = up;
      else {
        path = up === '' ? edgeName(d, v) : `${up}/${edgeName(d, v)}`;
        levels[v] = (levels[d] as number) + 1;
      }
      if (path !== null && (levels[d] as number) >= depth) levels[v] = depth;
    }
    labels[v] = path;
    if (path === null) continue;
    const size = nodes[v * nf + nSize] as number;
    retained += size;
    byPath.set(path, (byPath.get(path) ?? 0) + size);
    const type = nodeTypes[nodes[v * nf + nType] as number] as string;
    const name = type === 'object' || type === 'native' ? (strings[nodes[v * nf + nName] as number] as string) : '';
    const key = name === '' ? `(${type})` : `${name} (${type})`;
    byConstructor.set(key, (byConstructor.get(key) ?? 0) + size);
  }
  const desc = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { owners, retained, byPath: desc(byPath), byConstructor: desc(byConstructor) };
}
