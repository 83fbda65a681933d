/**
 * The console's hooks rule until eslint-plugin-react-hooks is a dependency: a hook (a call of
 * `useX`) runs at the top level of a component (a function named with a capital) or of another
 * hook (`useX`), never under a condition, in a loop, after an early return, or inside a nested
 * function (a callback, an effect body). Preact matches hooks to their state by call order, so
 * a hook called on some renders only hands one hook's state to another.
 */
const HOOK = /^use[A-Z0-9]/;
const COMPONENT = /^[A-Z]/;
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
/** Whether `child` of `at` runs on some renders only (or several times): what is evaluated first always runs. */
function conditional(at, child) {
  switch (at.type) {
    case 'IfStatement':
    case 'ConditionalExpression':
      return child !== at.test;
    case 'LogicalExpression':
      return child === at.right;
    case 'SwitchCase':
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement':
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'TryStatement':
      return true;
    case 'ChainExpression':
    case 'MemberExpression':
      return at.optional === true && child !== at.object;
    default:
      return false;
  }
}

function calleeName(node) {
  if (node.callee.type === 'Identifier') return node.callee.name;
  return null;
}

/** The name a function is known by: its own, or the variable it is assigned to. */
function functionName(fn) {
  if (fn.id) return fn.id.name;
  if (fn.parent?.type === 'VariableDeclarator' && fn.parent.id.type === 'Identifier') return fn.parent.id.name;
  return null;
}

/** Whether a statement before `node` in its function's body may return early. */
function afterEarlyReturn(fn, node) {
  if (fn.body.type !== 'BlockStatement') return false;
  for (const statement of fn.body.body) {
    // The statement holding the hook, and what follows it, are not before it.
    if (statement.range[1] > node.range[0]) return false;
    let found = false;
    const visit = (n) => {
      if (!n || typeof n.type !== 'string' || found) return;
      if (n.type === 'ReturnStatement') found = true;
      if (FUNCTIONS.has(n.type)) return;
      for (const key of Object.keys(n)) {
        if (key === 'parent') continue;
        const value = n[key];
        if (Array.isArray(value)) value.forEach(visit);
        else if (value && typeof value.type === 'string') visit(value);
      }
    };
    visit(statement);
    if (found) return true;
  }
  return false;
}

export default {
  meta: { type: 'problem', docs: { description: 'hooks run at the top level of a component or a hook, on every render' }, schema: [] },
  create(context) {
    return {
      CallExpression(node) {
        const name = calleeName(node);
        if (!name || !HOOK.test(name)) return;
        for (let child = node, at = node.parent; at; child = at, at = at.parent) {
          if (conditional(at, child)) {
            context.report({
              node,
              message: `${name} is called conditionally or in a loop; call hooks on every render, in the same order`,
            });
            return;
          }
          if (FUNCTIONS.has(at.type)) {
            const owner = functionName(at);
            if (!owner || !(COMPONENT.test(owner) || HOOK.test(owner)))
              context.report({ node, message: `${name} is called inside a function that is neither a component nor a hook` });
            else if (afterEarlyReturn(at, node))
              context.report({ node, message: `${name} is called after an early return; call hooks before any return` });
            return;
          }
        }
      },
    };
  },
};
