// A stand-in for a DingTalk group robot on your own machine (docs/notifications.md "Try it"): it prints
// each message as the group would show it and answers as DingTalk does. Run: node docs/notify-receiver.mjs [PORT]
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8089);
createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const { markdown = {} } = JSON.parse(body || "{}");
    // DingTalk shows <font> colours and **bold**; a terminal shows the words.
    const text = (markdown.text ?? "").replace(/<\/?font[^>]*>|\*\*/g, "").replace(/\n\n/g, "\n");
    console.log(`── ${new Date().toLocaleTimeString()} ${markdown.title ?? "(no title)"}\n${text}\n`);
    res.writeHead(200, { "content-type": "application/json" }).end('{"errcode":0,"errmsg":"ok"}');
  });
}).listen(port, "127.0.0.1", () => console.log(`DingTalk stand-in at http://127.0.0.1:${port}/robot/send?access_token=demo`));
