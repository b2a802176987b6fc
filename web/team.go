package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tandemsync/tandem/integrations/mail"
	"github.com/tandemsync/tandem/tenants"
	"github.com/tandemsync/tandem/web/ui"
)

// roleOptions are the roles in the order forms offer them, with what each
// may do.
var roleOptions = []ui.RoleOption{
	{Value: string(tenants.RoleViewer), Label: "viewer", Description: "Sees connections, setup and sync history; changes nothing."},
	{Value: string(tenants.RoleAdmin), Label: "admin", Description: "Also connects and disconnects accounts and changes setup and the business name."},
	{Value: string(tenants.RoleOwner), Label: "owner", Description: "Also manages the team: invites, roles and removals."},
}

// canManageTeam reports whether role may invite, change roles and remove.
func canManageTeam(r tenants.Role) bool { return r == tenants.RoleOwner }

// teamPage builds the team page of cur.
func (s *Server) teamPage(c echo.Context, cur tenants.Membership, email, role string, verr *tenants.ValidationError) (ui.Team, error) {
	ctx := c.Request().Context()
	u := currentUser(c)
	members, err := s.tenants.Members(ctx, cur.TenantID)
	if err != nil {
		return ui.Team{}, err
	}
	invs, err := s.tenants.Invitations(ctx, cur.TenantID)
	if err != nil {
		return ui.Team{}, err
	}
	if role == "" {
		role = string(tenants.RoleViewer)
	}
	t := ui.Team{
		TenantName: cur.TenantName, CSRF: s.csrfToken(c), YourRole: string(cur.Role),
		CanManage:    canManageTeam(cur.Role),
		InviteAction: s.url(routeTeamInvite), RoleAction: s.url(routeTeamRole),
		RemoveAction: s.url(routeTeamRemove), RevokeAction: s.url(routeTeamRevoke),
		InviteEmail: ui.Field{Name: "email", Label: "Email", Type: "email", Value: email, Autocomplete: "off"},
		InviteRole:  role,
		Roles:       roleOptions,
	}
	if verr != nil {
		t.InviteEmail.Error = verr.Message("email")
		t.RoleError = verr.Message("role")
	}
	for _, m := range members {
		t.Members = append(t.Members, ui.TeamMember{UserID: m.UserID, Email: m.Email, Role: string(m.Role),
			Since: m.CreatedAt.UTC().Format(dateFormat), You: m.UserID == u.ID})
	}
	now := s.now()
	for _, i := range invs {
		t.Invitations = append(t.Invitations, ui.TeamInvitation{ID: strconv.FormatInt(i.ID, 10), Email: i.Email,
			Role: string(i.Role), InvitedBy: i.InvitedBy, Expires: i.ExpiresAt.UTC().Format(timeFormat), Expired: i.Expired(now)})
	}
	return t, nil
}

func (s *Server) showTeam(c echo.Context) error {
	cur, err := s.tenantFor(c, false)
	if errors.Is(err, echo.ErrNotFound) {
		// No business (staff, say): the dashboard explains.
		return redirect(c, s.url(routeDashboard))
	}
	if err != nil {
		return err
	}
	t, err := s.teamPage(c, cur, "", "", nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "Team", ui.TeamBody(t))
}

// teamForm is tenantFor for the team's forms, which only owners send.
func (s *Server) teamForm(c echo.Context) (tenants.Membership, error) {
	cur, err := s.tenantFor(c, false)
	if err == nil && !canManageTeam(cur.Role) {
		err = echo.ErrForbidden
	}
	return cur, err
}

// invite invites someone and emails them the link. A failure to send is
// said plainly: the invitation stands and can be sent again.
func (s *Server) invite(c echo.Context) error {
	cur, err := s.teamForm(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	email, role := c.FormValue("email"), c.FormValue("role")
	inv, err := s.tenants.Invite(ctx, cur.TenantID, email, tenants.Role(role), *u, c.RealIP())
	var verr *tenants.ValidationError
	switch {
	case errors.Is(err, tenants.ErrAlreadyMember):
		verr = fieldError("email", "This person is already a member.")
		fallthrough
	case errors.As(err, &verr):
		t, err := s.teamPage(c, cur, email, role, verr)
		if err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "Team", ui.TeamBody(t))
	case err != nil:
		return err
	}
	link := s.absURL(routeInvite) + "?token=" + url.QueryEscape(inv.Token)
	m := mail.Message{
		To:      inv.Email,
		Subject: fmt.Sprintf("%s invited you to %s on Tandem", u.Email, inv.TenantName),
		Body: fmt.Sprintf("%s invited you to join %s on Tandem as %s.\n\n"+
			"Tandem keeps Lightspeed Retail and Salesforce in step. Accept the invitation here within 7 days:\n\n%s\n\n"+
			"If you were not expecting this, ignore this email.\n",
			u.Email, inv.TenantName, inv.Role, link),
	}
	if err := s.mail.Send(ctx, m); err != nil {
		s.log.ErrorContext(ctx, "send invitation", slog.String("request_id", requestID(c)), slog.Any("error", err))
		addFlash(c, ui.FlashError, fmt.Sprintf("The invitation for %s is saved, but the email could not be sent. Try Send again in a moment.", inv.Email))
	} else {
		addFlash(c, ui.FlashSuccess, fmt.Sprintf("Invitation sent to %s as %s.", inv.Email, inv.Role))
	}
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, s.url(routeTeam))
}

func (s *Server) revokeInvitation(c echo.Context) error {
	cur, err := s.teamForm(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.FormValue("invitation_id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := s.tenants.RevokeInvitation(c.Request().Context(), cur.TenantID, id, *currentUser(c), c.RealIP()); err != nil {
		return err // ErrNotFound: already accepted or cancelled
	}
	addFlash(c, ui.FlashInfo, "Invitation cancelled: its link no longer works.")
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, s.url(routeTeam))
}

func (s *Server) changeRole(c echo.Context) error {
	cur, err := s.teamForm(c)
	if err != nil {
		return err
	}
	err = s.tenants.ChangeRole(c.Request().Context(), cur.TenantID, c.FormValue("user_id"), tenants.Role(c.FormValue("role")), *currentUser(c), c.RealIP())
	var verr *tenants.ValidationError
	switch {
	case errors.Is(err, tenants.ErrLastOwner):
		addFlash(c, ui.FlashError, "The business must keep an owner: make someone else owner first.")
	case errors.As(err, &verr):
		addFlash(c, ui.FlashError, verr.Message("role"))
	case err != nil:
		return err // ErrNotFound: not a member
	default:
		addFlash(c, ui.FlashSuccess, "Role changed.")
	}
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, s.url(routeTeam))
}

// removeMember takes a member out; any member may remove themselves
// (leave), only owners others.
func (s *Server) removeMember(c echo.Context) error {
	u := currentUser(c)
	target := c.FormValue("user_id")
	cur, err := s.tenantFor(c, false)
	if err != nil {
		return err
	}
	leaving := target == u.ID
	if !leaving && !canManageTeam(cur.Role) {
		return echo.ErrForbidden
	}
	err = s.tenants.RemoveMember(c.Request().Context(), cur.TenantID, target, *u, c.RealIP())
	switch {
	case errors.Is(err, tenants.ErrLastOwner):
		addFlash(c, ui.FlashError, "The business must keep an owner: make someone else owner first.")
	case err != nil:
		return err
	case leaving:
		addFlash(c, ui.FlashInfo, fmt.Sprintf("You have left %s.", cur.TenantName))
		delete(session(c).Values, sessionTenantID)
		if err := s.saveSession(c); err != nil {
			return err
		}
		return redirect(c, s.url(routeDashboard))
	default:
		addFlash(c, ui.FlashSuccess, "Member removed.")
	}
	if err := s.saveSession(c); err != nil {
		return err
	}
	return redirect(c, s.url(routeTeam))
}

// showInvite is what an invitation link opens: a button for the invitee
// logged in, a password to choose for someone new, or a log-in first.
func (s *Server) showInvite(c echo.Context) error {
	token := c.QueryParam("token")
	p, status, err := s.invitePage(c, token)
	if err != nil {
		return err
	}
	return s.render(c, status, "Invitation", ui.InviteBody(p), narrow)
}

func (s *Server) invitePage(c echo.Context, token string) (ui.InvitePage, int, error) {
	ctx := c.Request().Context()
	inv, err := s.tenants.InvitationByToken(ctx, token)
	if errors.Is(err, tenants.ErrLinkInvalid) {
		return ui.InvitePage{Mode: ui.InviteInvalid}, http.StatusNotFound, nil
	}
	if err != nil {
		return ui.InvitePage{}, 0, err
	}
	p := ui.InvitePage{
		TenantName: inv.TenantName, Role: string(inv.Role), Email: inv.Email, InvitedBy: inv.InvitedBy,
		Action: s.url(routeInviteAccept), CSRF: s.csrfToken(c), Token: token,
		LoginURL: s.url(routeLogin) + "?next=" + url.QueryEscape(s.url(routeInvite)+"?token="+token),
		Password: ui.Field{Name: "password", Label: "Choose a password", Type: "password", Autocomplete: "new-password",
			Hint:      fmt.Sprintf("At least %d characters. You will log in as %s.", tenants.MinPasswordLen, inv.Email),
			MinLength: tenants.MinPasswordLen, Autofocus: true},
	}
	if u := currentUser(c); u != nil {
		p.Mode, p.Viewer = ui.InviteAccept, u.Email
		if u.Email != inv.Email {
			p.Mode = ui.InviteOtherUser
		}
		return p, http.StatusOK, nil
	}
	taken, err := s.tenants.EmailTaken(ctx, inv.Email)
	if err != nil {
		return ui.InvitePage{}, 0, err
	}
	p.Mode = ui.InviteNewUser
	if taken {
		p.Mode = ui.InviteLogIn
	}
	return p, http.StatusOK, nil
}

// acceptInvite joins the tenant: as the logged-in invitee, or as a new
// account with the password chosen, which is then logged in.
func (s *Server) acceptInvite(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.FormValue("token")
	var (
		tenantID string
		err      error
	)
	u := currentUser(c)
	if u != nil {
		tenantID, err = s.tenants.AcceptInvitation(ctx, token, *u, c.RealIP())
	} else {
		var nu tenants.User
		nu, tenantID, err = s.tenants.AcceptInvitationAsNewUser(ctx, token, c.FormValue("password"), c.RealIP())
		u = &nu
	}
	var verr *tenants.ValidationError
	switch {
	case errors.As(err, &verr), errors.Is(err, tenants.ErrInvitationForAnother), errors.Is(err, tenants.ErrEmailTaken):
		p, status, perr := s.invitePage(c, token)
		if perr != nil {
			return perr
		}
		if verr != nil {
			p.Password.Error = verr.Message("password")
			status = http.StatusUnprocessableEntity
		}
		return s.render(c, status, "Invitation", ui.InviteBody(p), narrow)
	case errors.Is(err, tenants.ErrLinkInvalid):
		return s.render(c, http.StatusNotFound, "Invitation", ui.InviteBody(ui.InvitePage{Mode: ui.InviteInvalid}), narrow)
	case err != nil:
		return err
	}
	m, err := s.tenants.Membership(ctx, tenantID, u.ID)
	if err != nil {
		return err
	}
	addFlash(c, ui.FlashSuccess, fmt.Sprintf("Welcome to %s. Your role: %s.", m.TenantName, m.Role))
	if err := s.startSession(c, *u, tenantID); err != nil {
		return err
	}
	return redirect(c, s.url(routeDashboard))
}
