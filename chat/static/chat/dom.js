// Building DOM without HTML strings: text is always set as text, never parsed.

/**
 * el("p", {className: "x", dataset: {id: "1"}, attrs: {"aria-label": "y"}, on: {click: fn}}, "text", child)
 * Children may be strings (added as text nodes), nodes, or null/false (skipped).
 */
export function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  const { className, dataset, attrs, on, text, hidden } = options;
  if (className) node.className = className;
  if (dataset) Object.assign(node.dataset, dataset);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  if (on) {
    for (const [event, handler] of Object.entries(on)) node.addEventListener(event, handler);
  }
  if (text !== undefined) node.textContent = text;
  if (hidden) node.hidden = true;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Show a sentence in ``node`` (or hide it when empty). */
export function say(node, sentence) {
  node.textContent = sentence || "";
  node.hidden = !sentence;
}
