package scaffold

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// dateGuess is what a column's cells say about how it writes dates.
type dateGuess struct {
	// formats are Go layouts, the most used first (it is the form written
	// back).
	formats []string
	// era is "" (Gregorian) or the Buddhist Era the years >= 2400 are in.
	era         string
	excelSerial bool
	bareYear    bool
	// dayFirst: the column writes day before month. evidence says whether
	// a cell showed it (a first number above 12 says day first, a second
	// one month first); without evidence day first is assumed.
	dayFirst  bool
	evidence  bool
	conflict  bool
	dates     int // cells read as dates
	nonEmpty  int
	twoDigits bool // some years have two digits
}

var (
	isoRE     = regexp.MustCompile(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$`)
	numericRE = regexp.MustCompile(`^([0-9]{1,2})([/.-])([0-9]{1,2})([/.-])([0-9]{4}|[0-9]{2})$`)
	namedRE   = regexp.MustCompile(`^([0-9]{1,2})([ -])([A-Za-z]{3,9})([ -])([0-9]{4}|[0-9]{2})$`)
	serialRE  = regexp.MustCompile(`^[0-9]{5}$`)
	yearRE    = regexp.MustCompile(`^[0-9]{4}$`)
)

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// guessDates reads a column's cells as dates. ok is false when fewer than
// six in ten of its non-empty cells are dates (serials and bare years
// count only beside real dates).
// thisYear tells two-digit Buddhist Era years (67: BE 2567) from
// Gregorian ones in Thai and Khmer sheets: as 20yy they would lie in the
// future.
func guessDates(cells []string, script string, thisYear int) (g dateGuess, ok bool) {
	shapes := map[string]int{}
	var dayVotes, monthVotes, serials, years int
	pad := func(s, padded, bare string) string {
		if len(s) == 2 {
			return padded
		}
		return bare
	}
	yearLayout := func(y string) string {
		if len(y) == 2 {
			g.twoDigits = true
			if n, _ := strconv.Atoi(y); (script == "th" || script == "km") && n > thisYear%100+1 {
				g.era = "buddhist"
			}
			return "06"
		}
		if n, _ := strconv.Atoi(y); n >= 2400 {
			g.era = "buddhist"
		}
		return "2006"
	}
	// numeric holds the day/month order-free shapes until the order is
	// known: sep, first and second padded, year layout.
	type numShape struct {
		sep       string
		p1, p2    bool
		year      string
		monthName string
	}
	nums := map[numShape]int{}
	for _, c := range cells {
		if c == "" {
			continue
		}
		g.nonEmpty++
		switch {
		case isoRE.MatchString(c):
			m := isoRE.FindStringSubmatch(c)
			yearLayout(m[1])
			shapes["2006-"+pad(m[2], "01", "1")+"-"+pad(m[3], "02", "2")]++
			g.dates++
		case numericRE.MatchString(c) && numericRE.FindStringSubmatch(c)[2] == numericRE.FindStringSubmatch(c)[4]:
			m := numericRE.FindStringSubmatch(c)
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[3])
			if a == 0 || b == 0 || a > 31 || b > 31 || a > 12 && b > 12 {
				continue
			}
			switch {
			case a > 12:
				dayVotes++
			case b > 12:
				monthVotes++
			}
			nums[numShape{sep: m[2], p1: len(m[1]) == 2, p2: len(m[3]) == 2, year: yearLayout(m[5])}]++
			g.dates++
		case namedRE.MatchString(c):
			m := namedRE.FindStringSubmatch(c)
			name := strings.ToLower(m[3])
			if !slices.Contains(monthNames, name[:3]) {
				continue
			}
			month := "Jan"
			if len(name) > 3 {
				month = "January"
			}
			shapes[pad(m[1], "02", "2")+m[2]+month+m[4]+yearLayout(m[5])]++
			g.dates++
		case serialRE.MatchString(c):
			if n, _ := strconv.Atoi(c); n >= 20000 && n <= 80000 {
				serials++
			}
		case yearRE.MatchString(c):
			if n, _ := strconv.Atoi(c); n >= 1900 && n <= 2100 || n >= 2440 && n <= 2650 {
				years++
			}
		}
	}
	if g.dates == 0 || (g.dates+serials+years)*10 < g.nonEmpty*6 {
		return g, false
	}
	g.excelSerial, g.bareYear = serials > 0, years > 0
	switch {
	case dayVotes > 0 && monthVotes > 0:
		g.evidence, g.conflict, g.dayFirst = true, true, dayVotes >= monthVotes
	case monthVotes > 0:
		g.evidence = true
	case dayVotes > 0:
		g.evidence, g.dayFirst = true, true
	default:
		g.dayFirst = true
	}
	for s, n := range nums {
		day, month := pad2(s.p1, "02", "2"), pad2(s.p2, "01", "1")
		if !g.dayFirst {
			month, day = pad2(s.p1, "01", "1"), pad2(s.p2, "02", "2")
			shapes[month+s.sep+day+s.sep+s.year] += n
			continue
		}
		shapes[day+s.sep+month+s.sep+s.year] += n
	}
	for s := range shapes {
		g.formats = append(g.formats, s)
	}
	// The most used layout first; ties in a fixed order, so that init
	// writes the same file twice.
	slices.SortFunc(g.formats, func(a, b string) int {
		if shapes[a] != shapes[b] {
			return shapes[b] - shapes[a]
		}
		return strings.Compare(a, b)
	})
	if g.era != "" && script == "km" {
		g.era = "buddhist_khmer"
	}
	return g, true
}

func pad2(padded bool, a, b string) string {
	if padded {
		return a
	}
	return b
}
