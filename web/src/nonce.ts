/** The CSP nonce the server put in the page, for the style elements CodeMirror creates. */
import { EditorView } from '@codemirror/view';

let nonce = '';

export function readNonce(): void {
  nonce = document.querySelector('meta[name="csp-nonce"]')?.getAttribute('content') ?? '';
}

export const editorNonce = () => EditorView.cspNonce.of(nonce);
