package config

import (
	"strings"
	"unicode/utf8"
)

// suggest returns ` (did you mean "x"?)` for the candidate Nearest to
// word, or "".
func suggest(word string, candidates []string) string {
	if best := Nearest(word, candidates); best != "" {
		return ` (did you mean "` + best + `"?)`
	}
	return ""
}

// Nearest returns the candidate nearest to word, for a did-you-mean
// suggestion, or "" when none is near enough. Case is ignored. A candidate
// is near when word begins it (for words of four letters or more: "newest"
// for "newest_wins"), or within an edit distance of 1 for words of four
// letters or fewer, 2 for longer ones and 3 from twelve letters (long
// Salesforce API names); swapping two adjacent letters counts as one edit.
func Nearest(word string, candidates []string) string {
	n := utf8.RuneCountInString(word)
	if word == "" || n > 80 {
		return ""
	}
	limit := 2
	switch {
	case n <= 4:
		limit = 1
	case n >= 12:
		limit = 3
	}
	best, bestDist := "", limit+1
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if c == word {
			continue
		}
		lc := strings.ToLower(c)
		if len(lw) >= 4 && strings.HasPrefix(lc, lw) && bestDist > 0 {
			best, bestDist = c, 0
			continue
		}
		dist := editDistance(lw, lc)
		if dist == 2 && isTransposition(lw, lc) {
			dist = 1
		}
		if dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// isTransposition reports whether a and b differ by one swap of adjacent
// characters ("Nmae" for "Name").
func isTransposition(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return false
	}
	for i := 0; i+1 < len(ra); i++ {
		if ra[i] != rb[i] {
			return ra[i] == rb[i+1] && ra[i+1] == rb[i] && string(ra[i+2:]) == string(rb[i+2:])
		}
	}
	return false
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
