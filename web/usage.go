package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/jobs"
	"github.com/tandemsync/tandem/jobs/connect"
	"github.com/tandemsync/tandem/web/ui"
)

// usageDays is how many days the usage charts cover.
const usageDays = 30

// showUsage is the merchant's Usage page: records synced and API calls per
// day, and today's Salesforce allocation and Lightspeed bucket. Everything
// is read for the current tenant only.
func (s *Server) showUsage(c echo.Context) error {
	cur, _, ok, err := s.currentTenant(c, currentUser(c))
	if err != nil {
		return err
	}
	if !ok {
		return redirect(c, s.url(routeDashboard))
	}
	v, err := s.usageView(c, cur.TenantID)
	if err != nil {
		return err
	}
	c.Set(ctxTenant, cur.TenantName)
	return s.render(c, http.StatusOK, "Usage", ui.UsageBody(v))
}

// usageView builds the Usage page of tenantID.
func (s *Server) usageView(c echo.Context, tenantID string) (ui.UsageView, error) {
	ctx := c.Request().Context()
	now := s.now().UTC()
	today := utcDay(now)
	first := today.AddDate(0, 0, -(usageDays - 1))
	records, err := s.ledger.RecordsPerDay(ctx, tenantID, first)
	if err != nil {
		return ui.UsageView{}, err
	}
	usage := connect.NewUsage(s.pool, s.now)
	calls, err := usage.Usage(ctx, tenantID, first)
	if err != nil {
		return ui.UsageView{}, err
	}
	v := ui.UsageView{Days: usageDays, BackURL: s.url(routeDashboard), ReservePct: strconv.FormatFloat(connect.DefaultReservePct, 'f', -1, 64)}

	days := make([]time.Time, usageDays)
	for i := range days {
		days[i] = first.AddDate(0, 0, i)
	}
	synced, failed := map[time.Time]int64{}, map[time.Time]int64{}
	for _, r := range records {
		synced[r.Day], failed[r.Day] = int64(r.Synced), int64(r.Failed)
	}
	v.Records = barChart("records-chart", "Records synced per day", days, []chartSeries{
		{Name: "synced", Label: "Synced (created, updated, linked)", Values: synced},
		{Name: "failed", Label: "Failed", Values: failed},
	})
	perProvider := map[string]map[time.Time]int64{connect.ProviderLightspeed: {}, connect.ProviderSalesforce: {}}
	var lsLatest *connect.DayUsage
	for i, d := range calls {
		if m := perProvider[d.Provider]; m != nil {
			m[d.Day] = d.Calls
		}
		if d.Day.Equal(today) {
			switch d.Provider {
			case connect.ProviderSalesforce:
				v.SalesforceCallsToday = d.Calls
			case connect.ProviderLightspeed:
				v.LightspeedCallsToday = d.Calls
			}
		}
		if d.Provider == connect.ProviderLightspeed && !d.MeasuredAt.IsZero() && (lsLatest == nil || d.MeasuredAt.After(lsLatest.MeasuredAt)) {
			lsLatest = &calls[i]
		}
	}
	v.Calls = barChart("calls-chart", "API calls per day", days, []chartSeries{
		{Name: connect.ProviderLightspeed, Label: "Lightspeed", Values: perProvider[connect.ProviderLightspeed]},
		{Name: connect.ProviderSalesforce, Label: "Salesforce", Values: perProvider[connect.ProviderSalesforce]},
	})

	used, max, ok, err := usage.SalesforceReserve(ctx, tenantID)
	if err != nil {
		return ui.UsageView{}, err
	}
	if ok && max > 0 {
		var at time.Time
		for _, d := range calls {
			if d.Provider == connect.ProviderSalesforce && d.MeasuredAt.After(at) {
				at = d.MeasuredAt
			}
		}
		reserveAt := int64(float64(max) * (1 - connect.DefaultReservePct/100))
		v.Salesforce = &ui.QuotaView{
			Used: ui.Thousands(int64(used)), Capacity: ui.Thousands(int64(max)), Percent: percent(float64(used), float64(max)),
			ReserveAt: ui.Thousands(reserveAt), Paused: connect.BelowReserve(used, max, connect.DefaultReservePct),
			Measured: measured(now, at),
		}
	}
	if lsLatest != nil && lsLatest.Capacity > 0 {
		v.Lightspeed = &ui.QuotaView{
			Used:     strconv.FormatFloat(lsLatest.Used, 'f', -1, 64),
			Capacity: strconv.FormatFloat(lsLatest.Capacity, 'f', -1, 64),
			Percent:  percent(lsLatest.Used, lsLatest.Capacity),
			Measured: measured(now, lsLatest.MeasuredAt),
		}
	}
	return v, nil
}

func measured(now, at time.Time) string {
	if at.IsZero() {
		return "at an unknown time"
	}
	return ago(now, at)
}

func percent(used, capacity float64) int {
	if capacity <= 0 {
		return 0
	}
	return min(100, max(0, int(used*100/capacity+0.5)))
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// chartSeries is one series of a bar chart: a value per day.
type chartSeries struct {
	Name, Label string
	Values      map[time.Time]int64
}

// Chart geometry, in SVG user units.
const (
	chartWidth  = 720
	chartHeight = 220
	chartLeft   = 48 // room for the y labels
	chartBottom = 20 // room for the x labels
	chartTop    = 8
)

// barChart draws series side by side for each day, on a y scale rounded up
// to a readable maximum.
func barChart(id, title string, days []time.Time, series []chartSeries) ui.BarChart {
	c := ui.BarChart{ID: id, Title: title, Width: chartWidth, Height: chartHeight}
	var peak, total int64
	for _, sr := range series {
		c.Legend = append(c.Legend, ui.LegendItem{Series: sr.Name, Label: sr.Label})
		for _, d := range days {
			n := sr.Values[d]
			peak = max(peak, n)
			total += n
		}
	}
	c.Total = ui.Thousands(total)
	top := niceCeil(peak)
	plotH := chartHeight - chartBottom - chartTop
	slot := (chartWidth - chartLeft) / len(days)
	barW := max(1, (slot-2)/len(series))
	for i, d := range days {
		x0 := chartLeft + i*slot + 1
		for j, sr := range series {
			n := sr.Values[d]
			h := int(int64(plotH) * n / top)
			if n > 0 && h == 0 {
				h = 1 // a day with any records shows
			}
			c.Bars = append(c.Bars, ui.Bar{
				X: x0 + j*barW, Y: chartTop + plotH - h, W: barW, H: h,
				Series: sr.Name, Day: d.Format(time.DateOnly), Value: n,
				Title: fmt.Sprintf("%s, %s: %s", d.Format("2 Jan"), sr.Label, ui.Thousands(n)),
			})
		}
		if i%5 == 0 || i == len(days)-1 {
			c.XLabels = append(c.XLabels, ui.AxisLabel{X: x0 + slot/2, Y: chartHeight - 5, Text: d.Format("2 Jan")})
		}
	}
	for k := int64(0); k <= 4; k++ {
		c.YLabels = append(c.YLabels, ui.AxisLabel{Y: chartTop + plotH - int(int64(plotH)*k/4), Text: ui.Thousands(top * k / 4)})
	}
	return c
}

// niceCeil rounds n up to 1, 2, 4, 5 or 8 times a power of ten (at least 4, so
// the four grid steps are whole numbers).
func niceCeil(n int64) int64 {
	if n <= 4 {
		return 4
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 4, 5, 8} {
			if m*p >= n && (m*p)%4 == 0 {
				return m * p
			}
		}
	}
}

// alertBanners are tenantID's alerts for the dashboard, except a
// connection needing reconnecting, which has its own banner with the
// Reconnect button.
func (s *Server) alertBanners(ctx context.Context, tenantID string) ([]ui.AlertBanner, error) {
	alerts, err := s.alerts.Current(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var out []ui.AlertBanner
	for _, a := range alerts {
		if a.Kind != jobs.AlertReconnect {
			out = append(out, ui.AlertBanner{Kind: a.Kind, Message: a.Message})
		}
	}
	return out, nil
}
