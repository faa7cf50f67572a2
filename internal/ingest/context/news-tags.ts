import { ASSETS } from '../../market/assets.js';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Finds the tickmesh assets a headline names: an asset's names as whole words in any case
 * ("Bitcoin", "ether"), its ticker as a whole word in capitals ("BTC", "$ETH") where the ticker
 * is not a common word. Patterns are compiled once per tagger, not at import.
 */
export class AssetTagger {
  private readonly patterns: { asset: string; names: RegExp | null; ticker: RegExp | null }[];

  constructor() {
    this.patterns = ASSETS.map((a) => ({
      asset: a.asset,
      names:
        a.names.length > 0
          ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${a.names.map(escapeRegex).join('|')})(?![\\p{L}\\p{N}])`, 'iu')
          : null,
      ticker: a.tickerInText
        ? new RegExp(`(?<![\\p{L}\\p{N}])\\$?${escapeRegex(a.asset)}(?![\\p{L}\\p{N}])`, 'u')
        : null,
    }));
  }

  /** Assets named in `text`, in the table's order, each once. */
  tag(text: string): string[] {
    const found: string[] = [];
    for (const p of this.patterns) {
      if (p.names?.test(text) || p.ticker?.test(text)) found.push(p.asset);
    }
    return found;
  }
}
