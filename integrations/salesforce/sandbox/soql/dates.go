package soql

import "time"

// dateLiteralSpec describes one relative date literal.
type dateLiteralSpec struct {
	takesN bool
	// span returns the literal's range as [from, to) calendar dates, given
	// today's date in the org's time zone and n.
	span func(today time.Time, n int) (from, to time.Time)
}

// dateLiterals lists the relative date literals the sandbox understands.
// Ranges follow Salesforce's documentation: LAST_N_DAYS:n includes today
// (n+1 days), NEXT_N_DAYS:n starts tomorrow, weeks start on Sunday (the
// en_US locale), quarters are calendar quarters. Fiscal literals are not
// supported.
var dateLiterals = map[string]dateLiteralSpec{
	"YESTERDAY": {span: func(d time.Time, _ int) (time.Time, time.Time) { return d.AddDate(0, 0, -1), d }},
	"TODAY":     {span: func(d time.Time, _ int) (time.Time, time.Time) { return d, d.AddDate(0, 0, 1) }},
	"TOMORROW":  {span: func(d time.Time, _ int) (time.Time, time.Time) { return d.AddDate(0, 0, 1), d.AddDate(0, 0, 2) }},
	"LAST_WEEK": {span: func(d time.Time, _ int) (time.Time, time.Time) { w := weekStart(d); return w.AddDate(0, 0, -7), w }},
	"THIS_WEEK": {span: func(d time.Time, _ int) (time.Time, time.Time) { w := weekStart(d); return w, w.AddDate(0, 0, 7) }},
	"NEXT_WEEK": {span: func(d time.Time, _ int) (time.Time, time.Time) {
		w := weekStart(d)
		return w.AddDate(0, 0, 7), w.AddDate(0, 0, 14)
	}},
	"LAST_MONTH": {span: func(d time.Time, _ int) (time.Time, time.Time) { m := monthStart(d); return m.AddDate(0, -1, 0), m }},
	"THIS_MONTH": {span: func(d time.Time, _ int) (time.Time, time.Time) { m := monthStart(d); return m, m.AddDate(0, 1, 0) }},
	"NEXT_MONTH": {span: func(d time.Time, _ int) (time.Time, time.Time) {
		m := monthStart(d)
		return m.AddDate(0, 1, 0), m.AddDate(0, 2, 0)
	}},
	"LAST_QUARTER": {span: func(d time.Time, _ int) (time.Time, time.Time) { q := quarterStart(d); return q.AddDate(0, -3, 0), q }},
	"THIS_QUARTER": {span: func(d time.Time, _ int) (time.Time, time.Time) { q := quarterStart(d); return q, q.AddDate(0, 3, 0) }},
	"NEXT_QUARTER": {span: func(d time.Time, _ int) (time.Time, time.Time) {
		q := quarterStart(d)
		return q.AddDate(0, 3, 0), q.AddDate(0, 6, 0)
	}},
	"LAST_YEAR": {span: func(d time.Time, _ int) (time.Time, time.Time) { y := yearStart(d); return y.AddDate(-1, 0, 0), y }},
	"THIS_YEAR": {span: func(d time.Time, _ int) (time.Time, time.Time) { y := yearStart(d); return y, y.AddDate(1, 0, 0) }},
	"NEXT_YEAR": {span: func(d time.Time, _ int) (time.Time, time.Time) {
		y := yearStart(d)
		return y.AddDate(1, 0, 0), y.AddDate(2, 0, 0)
	}},
	"LAST_90_DAYS": {span: func(d time.Time, _ int) (time.Time, time.Time) { return d.AddDate(0, 0, -90), d.AddDate(0, 0, 1) }},
	"NEXT_90_DAYS": {span: func(d time.Time, _ int) (time.Time, time.Time) { return d.AddDate(0, 0, 1), d.AddDate(0, 0, 91) }},

	"LAST_N_DAYS":  {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) { return d.AddDate(0, 0, -n), d.AddDate(0, 0, 1) }},
	"NEXT_N_DAYS":  {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) { return d.AddDate(0, 0, 1), d.AddDate(0, 0, 1+n) }},
	"N_DAYS_AGO":   {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) { return d.AddDate(0, 0, -n), d.AddDate(0, 0, 1-n) }},
	"LAST_N_WEEKS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) { w := weekStart(d); return w.AddDate(0, 0, -7*n), w }},
	"NEXT_N_WEEKS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		w := weekStart(d)
		return w.AddDate(0, 0, 7), w.AddDate(0, 0, 7+7*n)
	}},
	"N_WEEKS_AGO": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		w := weekStart(d)
		return w.AddDate(0, 0, -7*n), w.AddDate(0, 0, 7-7*n)
	}},
	"LAST_N_MONTHS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) { m := monthStart(d); return m.AddDate(0, -n, 0), m }},
	"NEXT_N_MONTHS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		m := monthStart(d)
		return m.AddDate(0, 1, 0), m.AddDate(0, 1+n, 0)
	}},
	"N_MONTHS_AGO": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		m := monthStart(d)
		return m.AddDate(0, -n, 0), m.AddDate(0, 1-n, 0)
	}},
	"LAST_N_QUARTERS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) { q := quarterStart(d); return q.AddDate(0, -3*n, 0), q }},
	"NEXT_N_QUARTERS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		q := quarterStart(d)
		return q.AddDate(0, 3, 0), q.AddDate(0, 3+3*n, 0)
	}},
	"N_QUARTERS_AGO": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		q := quarterStart(d)
		return q.AddDate(0, -3*n, 0), q.AddDate(0, 3-3*n, 0)
	}},
	"LAST_N_YEARS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) { y := yearStart(d); return y.AddDate(-n, 0, 0), y }},
	"NEXT_N_YEARS": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		y := yearStart(d)
		return y.AddDate(1, 0, 0), y.AddDate(1+n, 0, 0)
	}},
	"N_YEARS_AGO": {takesN: true, span: func(d time.Time, n int) (time.Time, time.Time) {
		y := yearStart(d)
		return y.AddDate(-n, 0, 0), y.AddDate(1-n, 0, 0)
	}},
}

// All helpers take and return midnight UTC dates; time zones enter only
// when a range is applied to a datetime field.
func weekStart(d time.Time) time.Time { return d.AddDate(0, 0, -int(d.Weekday())) }
func monthStart(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
}
func quarterStart(d time.Time) time.Time {
	return time.Date(d.Year(), (d.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
}
func yearStart(d time.Time) time.Time { return time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC) }

// literalRange resolves a date literal against now in loc. For date fields
// it returns day numbers; for datetime fields, Unix milliseconds of the
// local midnights bounding the range.
func literalRange(v value, now time.Time, loc *time.Location, datetime bool) (lo, hi int64) {
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	from, to := dateLiterals[v.lit].span(today, v.n)
	if !datetime {
		return dayNumber(from.Date()), dayNumber(to.Date())
	}
	return localMidnight(from, loc).UnixMilli(), localMidnight(to, loc).UnixMilli()
}

func localMidnight(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}
