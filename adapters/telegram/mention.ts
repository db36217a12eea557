/** Finding the bot's `@username` in a group message, and the prompt that is left once it is taken out. */

/** The text without `@botname` when it mentions the bot; undefined when it does not. */
export function withoutMention(text: string, username: string): string | undefined {
  const mention = new RegExp(`@${username}\\b`, 'i');
  return mention.test(text) ? text.replace(mention, '').trim() : undefined;
}
