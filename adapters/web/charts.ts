/**
 * Small inline SVG charts for the overview: stacked bars per day and horizontal bars per provider. Drawn with SVG
 * attributes only (the page's CSP allows no inline style), each with a <title> and a text table beside it, so the
 * figures are readable without seeing the picture.
 */
import { type Html, html } from './html.js';

export interface Stack {
  label: string;
  parts: { value: number; className: string; name: string }[];
}

const W = 320;
const H = 120;

/** One bar per label, its parts stacked bottom-up; the tallest bar (or `max`) fills the height. */
export function stackedBars(title: string, stacks: Stack[], scale: { max?: number; unit?: string } = {}): Html {
  const top = scale.max ?? Math.max(1, ...stacks.map((s) => s.parts.reduce((n, p) => n + p.value, 0)));
  const slot = W / Math.max(1, stacks.length);
  const bar = Math.max(2, slot * 0.7);
  const bars = stacks.map((stack, i) => {
    let y = H;
    const x = i * slot + (slot - bar) / 2;
    return html`<g>${stack.parts.map((part) => {
      const h = (part.value / top) * (H - 14);
      y -= h;
      return part.value > 0
        ? html`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}" class="${part.className}"><title>${stack.label}: ${part.name} ${part.value}</title></rect>`
        : '';
    })}</g>`;
  });
  const first = stacks[0]?.label.slice(5) ?? '';
  const last = stacks.at(-1)?.label.slice(5) ?? '';
  return html`<svg class="chart" viewBox="0 0 ${W} ${H + 14}" role="img" aria-label="${title}">
<title>${title}</title>
<line x1="0" y1="${H}" x2="${W}" y2="${H}" class="axis"/>
<text x="0" y="${H + 12}" class="tick">${first}</text>
<text x="${W}" y="${H + 12}" class="tick" text-anchor="end">${last}</text>
<text x="0" y="10" class="tick">${top}${scale.unit ?? ''}</text>
${bars}
</svg>`;
}

export interface BarRow {
  label: string;
  bars: { value: number; className: string; text: string }[];
}

/** Horizontal bars, one group per row (a provider), scaled to the largest value. */
export function horizontalBars(title: string, rows: BarRow[]): Html {
  const top = Math.max(1, ...rows.flatMap((r) => r.bars.map((b) => b.value)));
  const lineH = 16;
  const labelW = 70;
  let y = 0;
  const groups = rows.map((row) => {
    const label = html`<text x="0" y="${y + 12}" class="tick">${row.label}</text>`;
    const bars = row.bars.map((b) => {
      const width = Math.max(1, (b.value / top) * (W - labelW - 90));
      const g = html`<rect x="${labelW}" y="${y + 2}" width="${width.toFixed(1)}" height="${lineH - 4}" class="${b.className}"><title>${row.label}: ${b.text}</title></rect><text x="${(labelW + width + 4).toFixed(1)}" y="${y + 12}" class="tick">${b.text}</text>`;
      y += lineH;
      return g;
    });
    y += 6;
    return html`<g>${label}${bars}</g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${W} ${Math.max(y, lineH)}" role="img" aria-label="${title}"><title>${title}</title>${groups}</svg>`;
}
