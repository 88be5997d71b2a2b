// How a message's words are marked up, per format, so a robot's markdown and an e-mail's HTML and plain
// text say the same thing from the same code (./message-text.ts, ./digest-text.ts). Words that come from
// the campus file or from people (names, rooms, notes) pass through `text`: HTML escapes them (an ack note
// "<b>" must not become markup in someone's mailbox); the robots' markdown takes them as written.
import type { Severity } from "../../domain/alert.js";

export interface Markup {
  /** Words from the campus file or a person, made safe for the format. */
  text(raw: string): string;
  strong(marked: string): string;
  link(words: string, url: string): string;
  /** A line of a list (a message about several alerts: one line each). */
  item(marked: string): string;
  /** A severity word in the format's colour. */
  colour(severity: Severity, word: string): string;
}

/** The robots' markdown, with the vendor's way of writing a colour (./robots/). */
export const markdownMarkup = (colour: Markup["colour"]): Markup => ({
  text: (raw) => raw,
  strong: (marked) => `**${marked}**`,
  link: (words, url) => `[${words}](${url})`,
  item: (marked) => `- ${marked}`,
  colour,
});

/** The same red, orange, yellow and blue as DingTalk's (./robots/dingtalk.ts). */
export const SEVERITY_COLOURS: Record<Severity, string> = { critical: "#D32F2F", major: "#F57C00", minor: "#F9A825", warning: "#F9A825", info: "#1976D2" };

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (raw: string) => raw.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** An e-mail's HTML part. A list item is marked with a leading "- " that ./email-text.ts turns into <li>. */
export const htmlMarkup: Markup = {
  text: escapeHtml,
  strong: (marked) => `<strong>${marked}</strong>`,
  link: (words, url) => `<a href="${escapeHtml(url)}">${words}</a>`,
  item: (marked) => `- ${marked}`,
  colour: (severity, word) => `<span style="color:${SEVERITY_COLOURS[severity]};font-weight:bold">${word}</span>`,
};

/** An e-mail's text part: no markup; a link written out (mail readers make it clickable). */
export const plainMarkup: Markup = {
  text: (raw) => raw,
  strong: (marked) => marked,
  link: (words, url) => `${words}: ${url}`,
  item: (marked) => `- ${marked}`,
  colour: (_severity, word) => word,
};
