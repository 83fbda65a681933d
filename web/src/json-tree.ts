/**
 * JSON pointers and the editor's syntax tree (lang-json's lezer grammar): where a pointer
 * sits in the text, for issues; and which path the cursor is at, for completion.
 */
import type { EditorState } from '@codemirror/state';
import { syntaxTree } from '@codemirror/language';
import type { SyntaxNode } from '@lezer/common';

const VALUE = new Set(['Object', 'Array', 'String', 'Number', 'True', 'False', 'Null']);

function text(state: EditorState, node: SyntaxNode): string {
  return state.doc.sliceString(node.from, node.to);
}

function keyOf(state: EditorState, property: SyntaxNode): string | null {
  const name = property.getChild('PropertyName');
  if (!name) return null;
  try {
    return JSON.parse(text(state, name)) as string;
  } catch {
    return null;
  }
}

function valueOf(property: SyntaxNode): SyntaxNode | null {
  for (let c = property.lastChild; c; c = c.prevSibling) if (VALUE.has(c.name)) return c;
  return null;
}

function items(array: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = array.firstChild; c; c = c.nextSibling) if (VALUE.has(c.name)) out.push(c);
  return out;
}

/** The text range of the value at `pointer` (RFC 6901), or of its nearest existing parent. */
export function rangeOf(state: EditorState, pointer: string): { from: number; to: number } {
  let node: SyntaxNode | null = syntaxTree(state).topNode.firstChild;
  if (!node) return { from: 0, to: Math.min(1, state.doc.length) };
  const segments =
    pointer === ''
      ? []
      : pointer
          .slice(1)
          .split('/')
          .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let last: SyntaxNode = node;
  let keyNode: SyntaxNode | null = null;
  for (const segment of segments) {
    let next: SyntaxNode | null = null;
    if (node.name === 'Object') {
      for (const p of node.getChildren('Property')) {
        if (keyOf(state, p) === segment) {
          keyNode = p.getChild('PropertyName');
          next = valueOf(p);
        }
      }
    } else if (node.name === 'Array') {
      next = items(node)[Number(segment)] ?? null;
    }
    if (!next) break;
    last = node = next;
  }
  // An object or array value: underline its first line, not the whole block.
  if (last.name === 'Object' || last.name === 'Array') {
    const from = keyNode && keyNode.to <= last.from ? keyNode.from : last.from;
    return { from, to: Math.min(state.doc.lineAt(from).to, last.to) };
  }
  return { from: last.from, to: last.to };
}

/** The path from the root to the node at `pos`: object keys and array indexes. */
export function pathAt(state: EditorState, pos: number): { path: (string | number)[]; node: SyntaxNode } {
  const node = syntaxTree(state).resolveInner(pos, -1);
  const path: (string | number)[] = [];
  for (let n: SyntaxNode | null = node; n; n = n.parent) {
    const parent = n.parent;
    if (!parent) break;
    if (n.name === 'Property' || (parent.name === 'Property' && VALUE.has(n.name))) {
      const property = n.name === 'Property' ? n : parent;
      if (n.name !== 'Property') {
        const key = keyOf(state, property);
        if (key !== null) path.unshift(key);
      }
    } else if (parent.name === 'Array' && VALUE.has(n.name)) {
      path.unshift(items(parent).findIndex((c) => c.from === n.from));
    }
  }
  return { path, node };
}

/** The string value of member `key` of the object node, if it is a string. */
export function memberString(state: EditorState, object: SyntaxNode, key: string): string | undefined {
  for (const p of object.getChildren('Property')) {
    if (keyOf(state, p) !== key) continue;
    const v = valueOf(p);
    if (v?.name === 'String') return JSON.parse(text(state, v)) as string;
  }
  return undefined;
}

/** The object node enclosing `node` (itself when it is one). */
export function enclosingObject(node: SyntaxNode): SyntaxNode | null {
  for (let n: SyntaxNode | null = node; n; n = n.parent) if (n.name === 'Object') return n;
  return null;
}
