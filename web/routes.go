package web

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/tandemsync/tandem/static"
)

// Route names, for reverse routing with url(); every route has one.
const (
	routeHome         = "home"
	routeSignUp       = "signup"
	routeSignUpSubmit = "signup.submit"
	routeLogin        = "login"
	routeLoginSubmit  = "login.submit"
	routeLogout       = "logout"
	routeDashboard    = "dashboard"
	routeSwitchTenant = "tenant.switch"
	routeStaffTenants = "staff.tenants"
	routeStaffTenant  = "staff.tenant"
	routeStaffOther   = "staff.other" // non-GET methods on staff paths: 404
	routeHealthz      = "healthz"
	routeReadyz       = "readyz"
	routeStatic       = "static"
	routeSyncNow      = "sync.now"
	routeUsage        = "usage"
	// routeHistory is the sync history page (history.go).
	routeHistory = "history"

	routeForgotPassword       = "password.forgot"
	routeForgotPasswordSubmit = "password.forgot.submit"
	routeResetPassword        = "password.reset"
	routeResetPasswordSubmit  = "password.reset.submit"
	routeAccount              = "account"
	routeAccountPassword      = "account.password"
	routeAccountEmail         = "account.email"
	routeAccountBusiness      = "account.business"
	routeTeam                 = "team"
	routeTeamInvite           = "team.invite"
	routeTeamRevoke           = "team.revoke"
	routeTeamRole             = "team.role"
	routeTeamRemove           = "team.remove"
	routeInvite               = "invite"
	routeInviteAccept         = "invite.accept"
	routeDevMail              = "dev.mail"
)

// routes installs the middleware stack and every route. It is the one place
// that answers "what URLs exist, and who may use them?".
func (s *Server) routes() error {
	e := s.e
	// Order matters. The request id comes first so every later log line
	// carries it. observe logs and counts every request, including those
	// that panic, because recover sits inside it and hands the panic back
	// as an error. Sessions are loaded before the user, and the user before
	// CSRF so that a refused form is logged with who sent it.
	e.Use(
		assignRequestID,
		s.observe,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableErrorHandler: true, // observe hands the error to handleError
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				s.log.ErrorContext(c.Request().Context(), "panic in handler",
					slog.String("request_id", requestID(c)), slog.Any("panic", err), slog.String("stack", string(stack)))
				return err
			},
		}),
		s.secureHeaders,
		// Forms are a few hundred bytes; refuse to parse megabytes.
		middleware.BodyLimit("64K"),
		s.loadSession,
		s.loadUser,
		s.csrf,
	)

	// Operations: no session, no CSRF, plain text. HEAD too, for load
	// balancers. Metrics are not here: the caller serves them on a
	// private listener.
	for _, r := range e.Match(probeMethods, "/healthz", s.healthz) {
		r.Name = routeHealthz
	}
	for _, r := range e.Match(probeMethods, "/readyz", s.readyz) {
		r.Name = routeReadyz
	}
	e.GET(static.Prefix+"*", echo.WrapHandler(s.assets.Handler())).Name = routeStatic

	// Accounts.
	e.GET("/", s.showHome).Name = routeHome
	e.GET("/signup", s.showSignUp).Name = routeSignUp
	e.POST("/signup", s.signUp).Name = routeSignUpSubmit
	e.GET("/login", s.showLogin).Name = routeLogin
	e.POST("/login", s.logIn).Name = routeLoginSubmit
	e.POST("/logout", s.logOut).Name = routeLogout
	s.accountRoutes(e)

	// A merchant's own pages: the current tenant, chosen among the user's
	// memberships.
	e.GET("/dashboard", s.showDashboard, s.requireUser).Name = routeDashboard
	e.POST("/tenant", s.switchTenant, s.requireUser).Name = routeSwitchTenant
	e.POST("/sync/now", s.syncNow, s.requireUser).Name = routeSyncNow
	e.GET("/usage", s.showUsage, s.requireUser).Name = routeUsage
	s.connectRoutes(e)
	s.setupRoutes(e)
	s.historyRoutes(e)
	s.mappingRoutes(e)

	// Support staff: the log-in page when signed out (staff log in there
	// too), 404 for merchants. Every view of a tenant is audit-logged.
	e.GET("/staff", s.showStaffTenants, s.requireStaff).Name = routeStaffTenants
	e.GET("/staff/tenants/:id", s.showStaffTenant, s.requireStaff).Name = routeStaffTenant
	getPaths, postPaths := s.staffSyncRoutes(e)
	if err := s.riverUIRoutes(e); err != nil {
		return err
	}
	// Any other method would be 405 Method Not Allowed, which tells that
	// the path exists: answer 404 like an unknown path.
	for _, p := range append([]string{"/staff", "/staff/tenants/:id"}, getPaths...) {
		for _, r := range e.Match(staffOtherMethods, p, notFound) {
			r.Name = routeStaffOther
		}
	}
	for _, p := range postPaths {
		for _, r := range e.Match(append(slicesWithout(staffOtherMethods, http.MethodPost), http.MethodGet), p, notFound) {
			r.Name = routeStaffOther
		}
	}
	return nil
}

// probeMethods are the methods health and readiness probes use.
var probeMethods = []string{http.MethodGet, http.MethodHead}

// staffOtherMethods are the methods Echo routes other than GET.
var staffOtherMethods = []string{
	http.MethodConnect, http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodPatch,
	http.MethodPost, http.MethodPut, http.MethodTrace, echo.PROPFIND, echo.REPORT,
}

// notFound answers 404, through the central error handler.
func notFound(echo.Context) error { return echo.ErrNotFound }

// stateless reports whether the matched route needs no session: operations
// endpoints and static files are hit often and carry no user state.
func stateless(c echo.Context) bool {
	p := c.Path()
	return p == "/healthz" || p == "/readyz" || strings.HasPrefix(p, static.Prefix)
}

// url returns the path of the named route with params filled in.
func (s *Server) url(name string, params ...any) string {
	return s.e.Reverse(name, params...)
}

// redirect answers a form submission or a bounce with 303 See Other, so the
// browser follows with a GET.
func redirect(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}

// accountRoutes are the account basics: password reset, account settings,
// the team and invitations, and in `tandem dev` the caught mail.
func (s *Server) accountRoutes(e *echo.Echo) {
	e.GET("/forgot-password", s.showForgotPassword).Name = routeForgotPassword
	e.POST("/forgot-password", s.requestPasswordReset).Name = routeForgotPasswordSubmit
	e.GET("/reset-password", s.showResetPassword).Name = routeResetPassword
	e.POST("/reset-password", s.resetPassword).Name = routeResetPasswordSubmit
	e.GET("/account", s.showAccount, s.requireUser).Name = routeAccount
	e.POST("/account/password", s.changePassword, s.requireUser).Name = routeAccountPassword
	e.POST("/account/email", s.changeEmail, s.requireUser).Name = routeAccountEmail
	e.POST("/account/business", s.renameBusiness, s.requireUser).Name = routeAccountBusiness
	e.GET("/team", s.showTeam, s.requireUser).Name = routeTeam
	e.POST("/team/invite", s.invite, s.requireUser).Name = routeTeamInvite
	e.POST("/team/revoke", s.revokeInvitation, s.requireUser).Name = routeTeamRevoke
	e.POST("/team/role", s.changeRole, s.requireUser).Name = routeTeamRole
	e.POST("/team/remove", s.removeMember, s.requireUser).Name = routeTeamRemove
	e.GET("/invite", s.showInvite).Name = routeInvite
	e.POST("/invite", s.acceptInvite).Name = routeInviteAccept
	if s.devMail != nil {
		e.GET("/dev/mail", s.showDevMail).Name = routeDevMail
	}
}
