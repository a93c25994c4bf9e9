package config

import (
	"strings"
	"unicode/utf8"
)

// suggest returns ` (did you mean "x"?)` for the candidate nearest to
// word, or "" when none is near enough: a candidate that word begins
// (for words of four letters or more), or an edit distance of at most 2
// (1 for words of four letters or fewer), ignoring case.
func suggest(word string, candidates []string) string {
	if word == "" || utf8.RuneCountInString(word) > 64 {
		return ""
	}
	limit := 2
	if utf8.RuneCountInString(word) <= 4 {
		limit = 1
	}
	best, bestDist := "", limit+1
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if c == word {
			continue
		}
		lc := strings.ToLower(c)
		if len(lw) >= 4 && strings.HasPrefix(lc, lw) && bestDist > 0 {
			best, bestDist = c, 0 // "newest" for "newest_wins"
			continue
		}
		if dist := editDistance(lw, lc); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	if best == "" {
		return ""
	}
	return ` (did you mean "` + best + `"?)`
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
