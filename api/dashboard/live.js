// The live stream, WebSocket /api/live (docs/api.md "Live stream"): signs in with the first frame,
// asks for batched frames, and after a lost connection comes back and resumes after the last seq it saw.
import { token } from "./session.js";

// Reconnect delays double from 1 s up to 30 s, and start again at 1 s once a snapshot arrives.
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;
// The server closes with this code when the token is wrong or missing (docs/api.md "Live stream").
const TOKEN_REFUSED = 4401;

/**
 * Connects now and keeps connected until `stop()`. `onMessage(message)` gets every message, one at a time
 * (a batch frame is unpacked), `onFrame()` follows each frame, `onConnection(live)` says whether data
 * flows, `onRefused()` is called instead of reconnecting when the token is refused.
 */
export function openLiveStream({ onMessage, onFrame, onConnection, onRefused }) {
  let socket = null;
  let session = null;
  let lastSeq = 0;
  let retryMs = FIRST_RETRY_MS;
  let stopped = false;

  function receive(message) {
    if (typeof message.seq === "number") lastSeq = message.seq;
    if (message.type === "snapshot") {
      session = message.session;
      retryMs = FIRST_RETRY_MS;
      // A fresh session starts at seq 1: ask for the whole campus in one frame per tick rather than a
      // frame per reading (a resumed session keeps what it asked for).
      if (message.seq === 1) socket.send(JSON.stringify({ type: "subscribe", batch: true }));
    }
    onMessage(message);
    onConnection(true);
  }

  function connect() {
    if (stopped) return; // a reconnect timer that fired after stop()
    const current = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`);
    socket = current;
    // The token goes in the first frame rather than the URL, so it never lands in access logs; a known
    // session asks to resume after the last seq seen (else the server sends a fresh snapshot).
    current.onopen = () => {
      const resume = session ? { session, last_seq: lastSeq } : {};
      current.send(JSON.stringify({ type: "auth", token: token(), ...resume }));
    };
    current.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "batch") frame.messages.forEach(receive);
      else receive(frame);
      onFrame();
    };
    current.onclose = (event) => {
      onConnection(false);
      if (socket !== current) return; // replaced or stopped: not a lost connection
      if (event.code === TOKEN_REFUSED) return onRefused();
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  }

  connect();
  return {
    isOpen: () => socket?.readyState === WebSocket.OPEN,
    /** Closes for good (signing out): no reconnect, and the next stream starts a fresh session. */
    stop() {
      stopped = true;
      const current = socket;
      socket = null;
      current?.close();
    },
  };
}
