"""Charts as self-contained SVG (no plotting library, no CDN): they print, they embed in
the web pages, and officers can open them in any browser."""

from __future__ import annotations

from decimal import Decimal
from html import escape

PALETTE = ["#2f6db5", "#e07b39", "#3a9e5c", "#c94b4b", "#7d5bb5", "#8c8c8c"]


def _num(v) -> float:
    return float(Decimal(str(v)))


def bar_chart(title: str, bars: list[tuple[str, object]], *, unit: str = "", target: object | None = None,
              target_label: str = "目标", width: int = 900, bar_height: int = 18) -> str:
    """Horizontal bars (one per label) with an optional target line; values below the target
    are drawn in the warning colour."""
    values = [_num(v) for _, v in bars if v is not None]
    tgt = _num(target) if target is not None else None
    top = max(values + ([tgt] if tgt is not None else []) + [1.0])
    # Room for the longest label (CJK about one em, others about 0.6 em at 12 px), within bounds.
    longest = max((sum(13 if ord(ch) > 0x2E7F else 8 for ch in str(label)) for label, _ in bars), default=0)
    left, right, head = min(max(190, longest + 16), 480), 70, 48
    plot = width - left - right
    height = head + len(bars) * (bar_height + 6) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="12" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>',
           f'<text x="10" y="22" font-size="16" font-weight="bold">{escape(title)}</text>']
    for i, (label, v) in enumerate(bars):
        y = head + i * (bar_height + 6)
        out.append(f'<text x="{left - 6}" y="{y + bar_height - 5}" text-anchor="end">{escape(str(label))}</text>')
        if v is None:
            out.append(f'<text x="{left + 4}" y="{y + bar_height - 5}" fill="#8c8c8c">无数据</text>')
            continue
        w = max(1.0, _num(v) / top * plot)
        colour = PALETTE[3] if tgt is not None and _num(v) < tgt else PALETTE[0]
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{colour}"/>')
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_height - 5}">{escape(str(v))}{escape(unit)}</text>')
    if tgt is not None:
        x = left + tgt / top * plot
        bottom = head + len(bars) * (bar_height + 6)
        out.append(f'<line x1="{x:.1f}" y1="{head - 8}" x2="{x:.1f}" y2="{bottom}" stroke="#000" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x:.1f}" y="{head - 12}" text-anchor="middle">{escape(target_label)} {escape(str(target))}'
                   f'{escape(unit)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def share_bar(title: str, parts: list[tuple[str, object]], *, unit: str = "", width: int = 900) -> str:
    """One stacked bar of shares (e.g. land by category) with a legend."""
    total = sum(_num(v) for _, v in parts) or 1.0
    left, bar_w, y = 10, width - 20, 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{110 + 18 * len(parts)}" '
           f'font-family="sans-serif" font-size="12" role="img" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>',
           f'<text x="10" y="22" font-size="16" font-weight="bold">{escape(title)}</text>']
    x = float(left)
    for i, (_label, v) in enumerate(parts):
        w = _num(v) / total * bar_w
        out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="30" fill="{PALETTE[i % len(PALETTE)]}"/>')
        x += w
    for i, (label, v) in enumerate(parts):
        ly = y + 50 + 18 * i
        share = _num(v) / total * 100
        out.append(f'<rect x="{left}" y="{ly - 10}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{left + 18}" y="{ly}">{escape(str(label))}：{escape(str(v))}{escape(unit)}（{share:.1f}%）</text>')
    out.append("</svg>")
    return "\n".join(out)
