// Drawing happens at most once per animation frame, however many messages arrive in between.

const marked = new Set();
let draw = () => {};
let scheduled = false;

/** Sets what a frame draws: `fn(parts)` gets the parts marked since the last frame. */
export function onFrame(fn) {
  draw = fn;
}

/** Marks `parts` for redrawing and asks for a frame. */
export function schedule(...parts) {
  for (const p of parts) marked.add(p);
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    const parts = new Set(marked);
    marked.clear();
    draw(parts);
  });
}
