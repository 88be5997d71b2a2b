// An e-mail about alert changes or a daily digest (CONTRACT §14 "email": multipart text and HTML), pure: the
// same words as the robots' (./message-text.ts, ./digest-text.ts), marked up as HTML and as plain text, under
// a subject that reads well in a list of mails: severity, rule, event, then school and building.
import type { Alert } from "../../domain/alert.js";
import type { RouteLanguage } from "../../domain/district/schema.js";
import type { Digest } from "./digest-content.js";
import { digestText } from "./digest-text.js";
import { escapeHtml, htmlMarkup, type Markup, plainMarkup } from "./markup.js";
import { ruleName } from "../../domain/rule-words.js";
import { type AlertPlace, bodyOf, mostSevere, type NoticeItem, type TextOptions } from "./message-text.js";
import type { Content } from "./paced-channel.js";

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

/** What the words need besides the route: the dashboard's address and where an alert is. */
export type EmailText = Omit<TextOptions, "lang" | "markup">;

const WORDS = {
  "zh-CN": {
    severity: { critical: "危急", major: "严重", minor: "次要", warning: "警告", info: "提示" },
    event: { opened: "新告警", escalated: "已升级", acknowledged: "已确认", resolved: "已恢复", reminder: "仍未确认" },
    bracket: (word: string) => `【${word}】`,
    alerts: (n: number) => `${n} 条告警`,
    room: (r: string) => ` ${r}室`,
  },
  en: {
    severity: { critical: "Critical", major: "Major", minor: "Minor", warning: "Warning", info: "Info" },
    event: { opened: "New", escalated: "Escalated", acknowledged: "Acknowledged", resolved: "Resolved", reminder: "Still unacknowledged" },
    bracket: (word: string) => `[${word}] `,
    alerts: (n: number) => `${n} alerts`,
    room: (r: string) => ` room ${r}`,
  },
} as const;

/** "【严重】过载 · 新告警 · 东区实验学校 / 实验楼1号 101室"; several: "【危急】3 条告警 · 东区实验学校 / 实验楼1号". */
export function subjectOf(items: readonly NoticeItem[], lang: RouteLanguage, place: (alert: Alert) => AlertPlace): string {
  const w = WORDS[lang];
  const head = mostSevere(items);
  const where = place(head.alert);
  const buildings = new Set(items.map((i) => `${place(i.alert).school}/${place(i.alert).building}`));
  const severity = w.bracket(w.severity[head.alert.severity]);
  if (items.length === 1) return `${severity}${ruleName(head.alert.rule, lang)} · ${w.event[head.event]} · ${where.school} / ${where.building}${head.alert.room ? w.room(head.alert.room) : ""}`;
  return `${severity}${w.alerts(items.length)} · ${where.school}${buildings.size === 1 ? ` / ${where.building}` : ""}`;
}

const plainText = (title: string, blocks: readonly (readonly string[])[]) => [title, ...blocks.map((lines) => lines.join("\n"))].join("\n\n") + "\n";

/** Blocks as paragraphs; the lines of a list ("- …", ./markup.ts `item`) as a list. */
function html(title: string, blocks: readonly (readonly string[])[], lang: RouteLanguage): string {
  const block = (lines: readonly string[]) => {
    const out: string[] = [];
    let list: string[] = [];
    const closeList = () => {
      if (list.length > 0) out.push(`<ul style="margin:4px 0;padding-left:20px">${list.map((l) => `<li>${l}</li>`).join("")}</ul>`);
      list = [];
    };
    for (const line of lines) {
      if (line.startsWith("- ")) list.push(line.slice(2));
      else {
        closeList();
        out.push(`<div>${line}</div>`);
      }
    }
    closeList();
    return `<div style="margin:0 0 12px">${out.join("")}</div>`;
  };
  return `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family:-apple-system,'PingFang SC','Microsoft YaHei',Arial,sans-serif;font-size:15px;line-height:1.5">` +
    `<h2 style="font-size:17px">${escapeHtml(title)}</h2>${blocks.map(block).join("")}</body></html>`;
}

/** The e-mail about these alert changes, or this digest, in the route's language. */
export function emailMessage(content: Content, lang: RouteLanguage, text: EmailText): EmailMessage {
  const render = (markup: Markup) => ("digest" in content ? digestText(content.digest, lang, markup) : { title: "", blocks: bodyOf(content.items, { ...text, lang, markup }) });
  const subject = "digest" in content ? digestSubject(content.digest, lang) : subjectOf(content.items, lang, text.place);
  const plain = render(plainMarkup);
  const marked = render(htmlMarkup);
  return { subject, text: plainText(subject, plain.blocks), html: html(subject, marked.blocks, lang) };
}

const digestSubject = (digest: Digest, lang: RouteLanguage) => digestText(digest, lang, plainMarkup).title;
