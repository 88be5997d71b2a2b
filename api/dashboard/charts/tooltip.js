// One tooltip for every chart of the page: the text of the element under the pointer or in focus that
// carries `data-tip` (lines separated by "\n"), next to it. A keyboard user gets the same text as a mouse
// user (WCAG 2.2 SC 1.4.13, content on hover or focus: it stays while hovered and Escape dismisses it).
let tip = null;

function show(target) {
  tip.textContent = target.dataset.tip;
  tip.hidden = false;
  const box = target.getBoundingClientRect();
  const width = tip.offsetWidth;
  const left = Math.min(Math.max(4, box.left + box.width / 2 - width / 2), document.documentElement.clientWidth - width - 4);
  const above = box.top - tip.offsetHeight - 6;
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${(above > 0 ? above : box.bottom + 6) + window.scrollY}px`;
}

const hide = () => tip && (tip.hidden = true);

/** Installs the tooltip once: it follows `[data-tip]` elements anywhere in the page. */
export function setUpTooltip() {
  if (tip) return;
  tip = document.createElement("div");
  tip.className = "chart-tip";
  tip.setAttribute("role", "tooltip");
  tip.hidden = true;
  document.body.append(tip);
  const onEnter = (event) => {
    const target = event.target.closest?.("[data-tip]");
    if (target) show(target);
  };
  const onLeave = (event) => {
    if (event.target.closest?.("[data-tip]")) hide();
  };
  document.addEventListener("pointerover", onEnter);
  document.addEventListener("focusin", onEnter);
  document.addEventListener("pointerout", onLeave);
  document.addEventListener("focusout", onLeave);
  document.addEventListener("keydown", (event) => event.key === "Escape" && hide());
}
