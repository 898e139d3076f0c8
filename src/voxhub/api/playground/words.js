// Which word is being spoken: word_timestamps are in order, so a binary search finds the last
// word that has started. It stays highlighted through the pause before the next one.

export function wordAt(timestamps, seconds) {
  let low = 0;
  let high = timestamps.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (timestamps[middle].start <= seconds) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

// The words to show: the typed text's own tokens (with their punctuation) when they match the
// timestamps one to one, which is how voxhub counts words; otherwise the timestamps' words.
export function displayWords(text, timestamps) {
  const tokens = text.split(/\s+/).filter((token) => token.length > 0);
  return tokens.length === timestamps.length ? tokens : timestamps.map((t) => t.word);
}
