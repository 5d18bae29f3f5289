"""Derivation formulas of catalog documents: parsed into a small expression tree, computed exactly.

A formula is arithmetic over declared measure names: ``+ - × ÷`` (or ``* /``), parentheses,
decimal numbers and unary minus, e.g. ``value_added ÷ land_area`` or ``rd_spending ÷ revenue × 100``.
Python's ``ast`` only tokenises and nests it; every node is checked against a whitelist and turned
into our own tree, which is never compiled or evaluated by Python (no ``eval``: a formula cannot
call, index, compare or name anything but a declared measure).  Values are ``Fraction``s: exact.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

MAX_LENGTH = 500
MAX_DEPTH = 20


class FormulaError(ValueError):
    """A formula that is not plain arithmetic over declared measures."""


@dataclass(frozen=True)
class Num:
    value: Fraction


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Bin:
    op: str                 # + - * /
    left: Node
    right: Node


Node = Num | Var | Neg | Bin

_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def parse(text: str) -> Node:
    """The tree of ``text``, or FormulaError saying what is not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("公式不能为空 (empty formula)")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"公式过长 (longer than {MAX_LENGTH} characters)")
    src = text.replace("×", "*").replace("÷", "/").replace("（", "(").replace("）", ")").strip()
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError:
        raise FormulaError(f"无法解析的公式 (not an arithmetic formula): {text!r}") from None
    return _node(tree.body, 0)


def _node(n: ast.AST, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise FormulaError(f"公式嵌套过深 (nested deeper than {MAX_DEPTH})")
    if isinstance(n, ast.BinOp) and type(n.op) in _OPS:
        return Bin(_OPS[type(n.op)], _node(n.left, depth + 1), _node(n.right, depth + 1))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
        return Neg(_node(n.operand, depth + 1))
    if isinstance(n, ast.Constant) and type(n.value) in (int, float):
        # From the literal's own decimal spelling: 0.1 is 1/10, not the binary float.
        return Num(Fraction(str(n.value)))
    if isinstance(n, ast.Name):
        return Var(n.id)
    what = type(n).__name__
    raise FormulaError(f"公式只能包含 + − × ÷、括号、数字与计量项名称，不能包含 {what}（需要代码的推导不能用文件声明）"
                       f" (only + - × ÷, parentheses, numbers and measure names; {what} would need code)")


def names(node: Node) -> set[str]:
    if isinstance(node, Var):
        return {node.name}
    if isinstance(node, Neg):
        return names(node.operand)
    if isinstance(node, Bin):
        return names(node.left) | names(node.right)
    return set()


def denominators(node: Node) -> list[Node]:
    """Every right-hand side of a division, outermost first."""
    if isinstance(node, Neg):
        return denominators(node.operand)
    if isinstance(node, Bin):
        own = [node.right] if node.op == "/" else []
        return own + denominators(node.left) + denominators(node.right)
    return []


def evaluate(node: Node, env: Mapping[str, Fraction]) -> Fraction | None:
    """The exact value; None when a measure it names is absent or a divisor is zero
    (missing is never zero: the indicator is then missing, not a number)."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Var):
        return env.get(node.name)
    if isinstance(node, Neg):
        v = evaluate(node.operand, env)
        return None if v is None else -v
    a = evaluate(node.left, env)
    if a is None:
        return None
    b = evaluate(node.right, env)
    if b is None:
        return None
    if node.op == "+":
        return a + b
    if node.op == "-":
        return a - b
    if node.op == "*":
        return a * b
    return None if b == 0 else a / b


def show(node: Node) -> str:
    """The formula written back (× ÷), fully parenthesised where nested."""
    if isinstance(node, Num):
        return str(node.value) if node.value.denominator == 1 else str(float(node.value))
    if isinstance(node, Var):
        return node.name
    if isinstance(node, Neg):
        return f"-{show(node.operand)}"
    sym = {"*": "×", "/": "÷"}.get(node.op, node.op)
    def side(x: Node) -> str:
        return f"({show(x)})" if isinstance(x, Bin) else show(x)
    return f"{side(node.left)} {sym} {side(node.right)}"
