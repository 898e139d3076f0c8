"""Finding each word's phonemes in the phoneme string Kokoro spoke (its spans' basis)."""

from __future__ import annotations

from voxhub.engines.kokoro import token_ranges


def test_words_that_espeak_runs_together_are_split_back() -> None:
    spoken = "ɪnðə ɹˈum."
    assert token_ranges(["ˈɪn", "ðə", "ɹˈum."], spoken) == [(0, 2), (2, 4), (5, 9)]


def test_a_word_said_differently_in_context_keeps_its_sounds() -> None:
    # "the" alone is ðə; before a vowel eSpeak says ðɪ: the unmatched ɪ stays with its word
    spoken = "ðɪ ˈɛntɹəns"
    assert token_ranges(["ðə", "ˈɛntɹəns"], spoken) == [(0, 2), (4, 11)]


def test_a_token_with_no_sound_has_no_range_and_the_rest_keep_theirs() -> None:
    spoken = "ˈOl ˈæpəlz"
    assert token_ranges(["ˈOl", "", "ˈæpəlz"], spoken) == [(1, 3), None, (5, 10)]


def test_ranges_follow_the_text_order_when_a_word_is_spoken_as_two() -> None:
    # "$5.50" alone is several spoken words; all of them belong to the one token
    alone = ["pˈeɪd", "fˈaɪv dˈɑːlɚz ænd fˈɪfti sˈɛnts", "fɔːɹ"]
    spoken = "pˈeɪd fˈaɪv dˈɑːlɚz ænd fˈɪfti sˈɛnts fɔːɹ"
    ranges = token_ranges(alone, spoken)
    assert ranges[0] == (0, 5)
    assert ranges[1] == (6, 37)
    assert ranges[2] == (38, 42)


def test_a_long_phoneme_string_is_spoken_in_chunks_that_cover_it_once() -> None:
    from voxhub.engines.kokoro import _chunks

    phonemes = " ".join(["ðə lˈaɪbɹɛɹi ˈoʊpənz, ˈɜːli."] * 40)
    ranges = _chunks(phonemes)
    assert len(ranges) > 1
    assert all(end - start <= 500 for start, end in ranges)
    assert [start for start, _ in ranges[1:]] == [end for _, end in ranges[:-1]]
    assert (ranges[0][0], ranges[-1][1]) == (0, len(phonemes))
    assert all(phonemes[end - 1] in ",." for _, end in ranges[:-1])  # cut after punctuation
