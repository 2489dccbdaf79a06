// The list of posts: newest at the top, each id at most once.
//
// History arrives oldest first and is shown newest first; live messages (and those
// replayed after a reconnect, oldest first) go on top as they come; older pages go at
// the bottom. The newest message id from the server (history or socket) is what a
// reconnect resumes from.

import { renderPost, refreshTimes } from "./post.js";

export class Feed {
  constructor(list, { api, publicId, maxPosts = 300, onChange, onPruned }) {
    this.list = list;
    this.api = api;
    this.publicId = publicId;
    this.maxPosts = maxPosts;
    this.onPruned = onPruned || (() => {});
    this.onChange = onChange || (() => {});
    this.reset({ notify: false });
  }

  reset({ notify = true } = {}) {
    this.items = new Map(); // id -> <li>
    this.deleted = new Set();
    this.newestId = null; // newest message the server sent us: since= on reconnect
    this.oldestId = null; // oldest one shown: before= for the next older page
    this.list.replaceChildren();
    if (notify) this.onChange();
  }

  get size() {
    return this.items.size;
  }

  countOf(type) {
    if (type === "all") return this.items.size;
    let count = 0;
    for (const item of this.items.values()) if (item.dataset.type === type) count += 1;
    return count;
  }

  /** A first page of history (oldest first), replacing what is shown. */
  setHistory(messages) {
    this.reset();
    for (let i = messages.length - 1; i >= 0; i -= 1) this.insert(messages[i], "bottom");
    if (messages.length) {
      this.newestId = messages[messages.length - 1].id;
      this.oldestId = messages[0].id;
    }
    this.onChange();
  }

  /** An older page (oldest first), added below. */
  addOlder(messages) {
    for (let i = messages.length - 1; i >= 0; i -= 1) this.insert(messages[i], "bottom");
    if (messages.length) this.oldestId = messages[0].id;
    this.onChange();
  }

  /** A message from the socket (live or replayed): on top, once. */
  addLive(message) {
    this.newestId = message.id;
    if (!this.oldestId) this.oldestId = message.id;
    // The live feed is in order: a post it deleted and now brings again was restored by
    // a moderator, and goes back where its time puts it.
    const restored = this.deleted.delete(message.id);
    const added = this.insert(message, restored ? "by time" : "top", { fresh: !restored });
    if (added) this.pruneAndNotify();
    return added;
  }

  /** One's own post, from the POST answer (the socket will bring it too: shown once). */
  addOwn(message) {
    if (!this.oldestId) this.oldestId = message.id;
    const added = this.insert(message, "top", { fresh: true });
    if (added) this.pruneAndNotify();
    return added;
  }

  /**
   * A page open for hours on a busy city would grow without end: keep the newest
   * ``maxPosts`` in the DOM and drop the oldest; "Load older posts" brings them back.
   */
  pruneAndNotify() {
    let pruned = false;
    while (this.items.size > this.maxPosts) {
      const oldest = this.list.lastElementChild;
      if (!oldest) break;
      this.items.delete(oldest.dataset.id);
      oldest.remove();
      pruned = true;
    }
    if (pruned) {
      this.oldestId = this.list.lastElementChild ? this.list.lastElementChild.dataset.id : null;
      this.onPruned();
    }
    this.onChange();
  }

  remove(id) {
    this.deleted.add(id);
    const item = this.items.get(id);
    if (!item) return;
    this.items.delete(id);
    item.remove();
    this.onChange();
  }

  insert(message, where, { fresh = false } = {}) {
    if (!message || typeof message.id !== "string") return false;
    if (this.items.has(message.id)) {
      // A held post a moderator approved comes again, public: it is no longer waiting.
      if (!message.held_for_review) this.items.get(message.id).querySelector(".held-label")?.remove();
      return false;
    }
    if (this.deleted.has(message.id)) return false;
    const item = renderPost(message, { api: this.api, publicId: this.publicId });
    if (fresh) item.classList.add("post-fresh");
    this.items.set(message.id, item);
    if (where === "top") this.list.prepend(item);
    else if (where === "by time") this.list.insertBefore(item, this.firstOlderThan(message.timestamp));
    else this.list.append(item);
    return true;
  }

  /** The first post shown (newest first) older than ``timestamp``, or null. */
  firstOlderThan(timestamp) {
    for (const item of this.list.children) {
      if (Number(item.querySelector("time")?.dataset.timestamp) < timestamp) return item;
    }
    return null;
  }

  refreshTimes() {
    refreshTimes(this.list);
  }
}
