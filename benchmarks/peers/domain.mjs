// What the peers compute from loaded documents, written as a JavaScript team would port the
// gateway's rules: locale fallback (resolvers/locales.py), slot choice and deliverability
// (resolvers/media/selection.py), the readiness score (resolvers/readiness/rules.py: only
// whether each rule passes, which is all a score needs), delivery URLs from per-slot templates
// (resolvers/assets/dam.py UrlTemplate.fill) and listing cursors (resolvers/pagination.py).
// The harness checks the peers' payloads against the gateway's before timing anything.

import { createHash } from "node:crypto";

// Python's str.isspace() characters: a text of only these is blank, as the gateway decides.
const PY_WHITESPACE =
  "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005" +
  "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const UNIVERSAL_FORMATS = new Set(["auto", "jpg", "png", "gif", "mp4"]);
const SWATCH_OPTION = "color";

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

function isBlankText(text) {
  for (const ch of text) {
    if (!PY_WHITESPACE.includes(ch)) return false;
  }
  return true;
}

export function isBlank(value) {
  if (value === null || value === undefined) return true;
  if (typeof value === "string") return isBlankText(value);
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

export class Locales {
  constructor(config) {
    this.default = config.default;
    this.chains = config.chains;
    this.own = {};
    for (const [tag, chain] of Object.entries(this.chains)) {
      this.own[tag] = tag === this.default ? chain : chain.filter((t) => t !== this.default);
    }
  }

  pick(values, tag) {
    if (values) {
      for (const candidate of this.chains[tag]) {
        const value = values[candidate];
        if (!isBlank(value)) return value;
      }
    }
    return null;
  }

  hasOwnValue(values, tag) {
    if (!values) return false;
    return this.own[tag].some((t) => !isBlank(values[t]));
  }
}

export function resourceTypeOf(role) {
  return role === "video" ? "video" : "image";
}

export function assetKey(reference) {
  return `${resourceTypeOf(reference.role ?? "")}\u0000${reference.publicId}`;
}

export function deliverable(asset, channel, now) {
  if (!asset || asset.status === "missing" || asset.status === "deleted") return false;
  if (asset.status === "rejected" || asset.lifecycle === "retired") return false;
  if (asset.validFrom != null && now < asset.validFrom) return false;
  if (asset.validTo != null && now >= asset.validTo) return false;
  const channels = asset.usageChannels;
  return channels == null || channels.includes(channel);
}

function byPosition(references) {
  return [...references].sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
}

function optionValue(variant) {
  const value = (variant.options ?? {})[SWATCH_OPTION];
  return value === null || value === undefined || value === "" ? null : String(value);
}

function swatchSiblings(product, variantSku) {
  const variants = product.variants ?? [];
  const found = variants.find((v) => v.sku === variantSku);
  const colour = found ? optionValue(found) : null;
  if (colour === null) return [variantSku];
  return [
    variantSku,
    ...variants.filter((v) => v.sku !== variantSku && optionValue(v) === colour).map((v) => v.sku),
  ];
}

export function slotCandidates(product, roles, variantSku = null) {
  const wanted = new Set(roles);
  const candidates = (product.media ?? []).filter((r) => wanted.has(r.role));
  if (variantSku === null) {
    return byPosition(candidates).sort((a, b) => ("variantSku" in a) - ("variantSku" in b));
  }
  const rank = new Map(swatchSiblings(product, variantSku).map((sku, index) => [sku, index]));
  const mine = byPosition(candidates).filter((r) => rank.has(r.variantSku));
  return mine.sort((a, b) => rank.get(a.variantSku) - rank.get(b.variantSku));
}

// The asset that fills a slot (null: the slot's placeholder).
export function chooseForSlot(roles, references, assets, channel, now) {
  for (const role of roles) {
    for (const reference of references) {
      if (reference.role !== role) continue;
      const asset = assets.get(assetKey(reference)) ?? null;
      if (deliverable(asset, channel, now)) return asset;
    }
  }
  return null;
}

export function fillSlot(slot, product, assets, channel, now, variantSku = null) {
  return chooseForSlot(slot.roles, slotCandidates(product, slot.roles, variantSku), assets, channel, now);
}

// ---------------------------------------------------------------------------------------------
// Delivery URLs: UrlTemplate.fill with cloudinary.utils.finalize_source's escaping.

function pyUnquote(text) {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) =>
    Buffer.from(run.replace(/%/g, ""), "hex").toString("utf8"),
  );
}

function smartEscape(text) {
  return text.replace(/[^a-zA-Z0-9_.\-/:]+/g, (run) =>
    [...Buffer.from(run, "utf8")].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(""),
  );
}

export function fillTemplate(template, publicId, version) {
  let source = smartEscape(pyUnquote(publicId.replace(/([^:])\/+/g, "$1/")));
  const toSign = template.format ? `${source}.${template.format}` : source;
  source = toSign;
  let versionPart = null;
  if (version) {
    versionPart = `v${version}`;
  } else if (template.forceVersion && toSign.includes("/") && !/^https?:\//.test(toSign) && !/^v[0-9]+/.test(toSign)) {
    versionPart = "v1";
  }
  let signature = null;
  if (template.secret !== null) {
    const signed = [template.transformation, toSign].filter(Boolean).join("/");
    const digest = createHash("sha1").update(signed + template.secret, "utf8").digest("base64url");
    signature = `s--${digest.slice(0, 8)}--`;
  }
  return [template.head, signature, template.transformation, versionPart, source].filter(Boolean).join("/");
}

// ---------------------------------------------------------------------------------------------
// Readiness: the score of resolvers.readiness.evaluate (every rule's verdict, weighted).

export function neededCodes(categories) {
  return [...new Set(categories.flatMap((c) => c.requiredAttributes ?? []))];
}

function blankStored(value) {
  if (value === null || value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isPlainObject(value)) return Object.keys(value).length === 0;
  return typeof value === "string" && isBlankText(value);
}

const RULES = {
  hero_image(s) {
    return (s.product.media ?? []).some((r) => r.role === "hero" && s.ok(r));
  },
  image_resolution(s) {
    return s.usedImages().every(([slot, asset]) => {
      return (asset.width || 0) >= slot.requiredWidth && (asset.height || 0) >= slot.requiredHeight;
    });
  },
  alt_text(s) {
    return s.usedImages().every(([, asset]) => s.wanted.every((t) => s.locales.hasOwnValue(asset.alt, t)));
  },
  delivery_fallback(s) {
    for (const [slot, asset] of s.choices) {
      if (!UNIVERSAL_FORMATS.has(slot.format)) return false;
      if (asset !== null && !asset.format) return false;
    }
    return true;
  },
  variant_swatches(s) {
    const colours = new Map();
    for (const variant of s.product.variants ?? []) {
      const colour = optionValue(variant);
      if (colour !== null) {
        if (!colours.has(colour)) colours.set(colour, []);
        colours.get(colour).push(variant.sku);
      }
    }
    const slot = s.swatchSlot;
    if (colours.size === 0 || !slot) return true;
    for (const skus of colours.values()) {
      for (const sku of skus) {
        if (fillSlot(slot, s.product, s.assets, s.channel, s.now, sku) === null) return false;
      }
    }
    return true;
  },
  video_posters(s) {
    return (s.product.media ?? []).every((r) => {
      if (r.role !== "video" || !s.ok(r)) return true;
      const asset = s.assets.get(assetKey(r));
      return !asset || Boolean(asset.poster);
    });
  },
  required_attributes(s) {
    const values = s.product.attributes ?? {};
    for (const code of neededCodes(s.categories)) {
      const stored = (values[code] ?? {}).value;
      const definition = s.definitions.get(code) ?? {};
      if (definition.localizable || isPlainObject(stored)) {
        const map = isPlainObject(stored) ? stored : null;
        if (!s.wanted.every((t) => s.locales.hasOwnValue(map, t))) return false;
      } else if (blankStored(stored)) {
        return false;
      }
    }
    return true;
  },
  text_lengths(s) {
    for (const [field, [low, high]] of s.textLengths) {
      const values = s.product[field] ?? {};
      for (const tag of s.wanted) {
        if (!s.locales.hasOwnValue(values, tag)) return false;
        const length = [...String(s.locales.pick(values, tag))].length;
        if (length < low || length > high) return false;
      }
    }
    return true;
  },
  asset_validity(s) {
    return (s.product.media ?? []).every((r) => s.ok(r));
  },
};

export class Channel {
  constructor(name, config, textLengths, swatchFallbackRoles) {
    this.name = name;
    this.locales = config.locales;
    this.slots = config.slots;
    this.heroSlot = config.heroSlot ? config.slots[config.heroSlot] : null;
    this.rules = config.rules;
    this.textLengths = Object.entries(textLengths);
    const lead = (role) => Object.values(config.slots).find((slot) => slot.roles[0] === role) ?? null;
    const swatch = config.slots.swatch ?? lead("swatch");
    this.swatchSlot = swatch ? { ...swatch, roles: [...new Set([...swatch.roles, ...swatchFallbackRoles])] } : null;
  }

  score(product, assets, categories, definitions, locales, now) {
    const state = {
      product,
      assets,
      categories,
      definitions,
      locales,
      now,
      channel: this.name,
      wanted: this.locales,
      textLengths: this.textLengths,
      swatchSlot: this.swatchSlot,
      ok: (reference) => deliverable(assets.get(assetKey(reference)) ?? null, this.name, now),
      choices: Object.values(this.slots).map((slot) => [slot, fillSlot(slot, product, assets, this.name, now)]),
      usedImages() {
        return this.choices.filter(([, asset]) => asset !== null && (asset.resourceType ?? "image") === "image");
      },
    };
    let total = 0;
    let earned = 0;
    for (const rule of this.rules) {
      total += rule.weight;
      if (RULES[rule.id](state)) earned += rule.weight;
    }
    return total === 0 ? 100 : Math.floor((earned * 100) / total);
  }
}

// ---------------------------------------------------------------------------------------------
// Listing cursors (resolvers/pagination.py, the default sort: SKU ascending, ties by _id).

const SORT_KEY = "sku";

export function encodeCursor(document) {
  const raw = JSON.stringify([SORT_KEY, 0, document.sku ?? null, document._id.toHexString()]);
  return Buffer.from(raw, "utf8").toString("base64url");
}

export function decodeCursor(cursor) {
  const [key, descending, value, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  if (key !== SORT_KEY || descending) throw new Error("the cursor was issued for another sort");
  return { value, id };
}
