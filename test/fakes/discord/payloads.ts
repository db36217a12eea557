/**
 * Payload builders for the fake Discord: snowflakes, users, members, messages and interactions shaped like the
 * real API v10 objects, so discord.js builds its structures from them exactly as it does in production.
 */
const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A real snowflake for "now", so discord.js derives the right creation time (and token expiry) from ids. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) % 4096n;
  return String(((BigInt(at) - DISCORD_EPOCH) << 22n) | increment);
}

export interface FakeUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: null;
  bot?: boolean;
}

export function user(id: string, username = `user${id.slice(-4)}`, bot = false): FakeUser {
  return { id, username, discriminator: '0', global_name: username, avatar: null, ...(bot && { bot }) };
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  author: FakeUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: false;
  mention_everyone: false;
  mentions: FakeUser[];
  mention_roles: string[];
  attachments: { id: string; filename: string; size: number; url: string; proxy_url: string }[];
  embeds: unknown[];
  components: unknown[];
  pinned: false;
  type: 0 | 19 | 20;
  flags: number;
  webhook_id?: string;
  interaction_token?: string;
}

export function message(fields: Partial<FakeMessage> & { channel_id: string; author: FakeUser }): FakeMessage {
  return {
    id: snowflake(),
    content: '',
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
    embeds: [],
    components: [],
    pinned: false,
    type: 0,
    flags: 0,
    ...fields,
  };
}

/** MANAGE_GUILD (1 << 5) plus the usual member bits; `'0'` for a member with no rights. */
export const ADMIN_PERMISSIONS = String((1n << 5n) | (1n << 10n) | (1n << 11n));
export const MEMBER_PERMISSIONS = String((1n << 10n) | (1n << 11n));

export interface InteractionInput {
  /** 2 = application command, 3 = message component. */
  type: 2 | 3;
  userId: string;
  /** null: the interaction comes from a DM with the bot (no guild, no member, `user` instead). */
  guildId: string | null;
  channelId: string;
  locale?: string;
  permissions?: string;
  attachmentSizeLimit?: number;
  /** For commands. */
  command?: { name: string; options?: unknown[]; resolved?: unknown };
  /** For buttons: the clicked id and the message it sits on. */
  component?: { customId: string; message: FakeMessage };
  /** How long ago Discord created the interaction (its id's timestamp): a bot that is behind. */
  createdAgoMs?: number;
}

export function interaction(input: InteractionInput, appId: string, token: string) {
  const u = user(input.userId);
  const where = input.guildId === null ? dmPart(input, u) : guildPart(input, u);
  const base = {
    ...where,
    id: snowflake(Date.now() - (input.createdAgoMs ?? 0)),
    application_id: appId,
    type: input.type,
    channel_id: input.channelId,
    token,
    version: 1,
    locale: input.locale ?? 'en-US',
    guild_locale: 'en-US',
    app_permissions: String((1n << 11n) | (1n << 15n)),
    entitlements: [],
    attachment_size_limit: input.attachmentSizeLimit ?? 10 * 1024 * 1024,
  };
  if (input.type === 2) {
    const c = input.command!;
    return {
      ...base,
      data: {
        id: snowflake(),
        name: c.name,
        type: 1,
        options: c.options ?? [],
        ...(c.resolved ? { resolved: c.resolved } : {}),
      },
    };
  }
  const c = input.component!;
  return { ...base, data: { custom_id: c.customId, component_type: 2 }, message: c.message };
}

/** The fields of an interaction in a guild channel, from a member. */
function guildPart(input: InteractionInput, u: FakeUser) {
  return {
    guild_id: input.guildId,
    channel: { id: input.channelId, type: 0, guild_id: input.guildId, name: 'general' },
    member: {
      user: u,
      roles: [],
      permissions: input.permissions ?? MEMBER_PERMISSIONS,
      joined_at: new Date(0).toISOString(),
      deaf: false,
      mute: false,
      flags: 0,
    },
    authorizing_integration_owners: { '0': input.guildId },
    context: 0,
  };
}

/** The fields of an interaction in the bot's DM with a user (context 1): no guild, no member. */
function dmPart(input: InteractionInput, u: FakeUser) {
  return {
    channel: { id: input.channelId, type: 1, recipients: [u] },
    user: u,
    authorizing_integration_owners: { '1': u.id },
    context: 1,
  };
}
