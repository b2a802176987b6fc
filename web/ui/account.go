package ui

// ForgotPasswordForm is the page that sends a password reset link.
type ForgotPasswordForm struct {
	Action   string
	CSRF     string
	Email    Field
	Sent     bool   // the request was taken: say so, whoever the email is
	SentTo   string // the address typed, as typed
	LoginURL string
	// DevMailURL is the dev mailbox, set only in `tandem dev`, where mail
	// is caught instead of sent.
	DevMailURL string
}

// ResetPasswordForm is the page a reset link opens.
type ResetPasswordForm struct {
	Action    string
	CSRF      string
	Token     string
	Email     string // whose password this sets
	Password  Field
	Invalid   bool // the link is unknown, used or expired
	ForgotURL string
}

// AccountSettings is the account page: the person's log-in and, for those
// who may, the business's name.
type AccountSettings struct {
	CSRF  string
	Email string

	PasswordAction  string
	CurrentPassword Field
	NewPassword     Field

	EmailAction   string
	NewEmail      Field
	EmailPassword Field

	Business *BusinessForm // nil when the viewer may not rename it
}

// BusinessForm renames the current tenant.
type BusinessForm struct {
	Action string
	Name   Field
}

// Team is the team page of the current tenant.
type Team struct {
	TenantName string
	CSRF       string
	YourRole   string
	CanManage  bool // owners invite, change roles and remove

	Members     []TeamMember
	Invitations []TeamInvitation

	InviteAction string
	InviteEmail  Field
	InviteRole   string // the role selected in the invite form
	RoleError    string
	Roles        []RoleOption

	RoleAction   string
	RemoveAction string
	RevokeAction string
}

// RoleOption is one role, with what it may do.
type RoleOption struct {
	Value       string
	Label       string
	Description string
}

// TeamMember is one member on the team page.
type TeamMember struct {
	UserID string
	Email  string
	Role   string
	Since  string
	You    bool
}

// TeamInvitation is an open invitation on the team page.
type TeamInvitation struct {
	ID        string
	Email     string
	Role      string
	InvitedBy string
	Expires   string
	Expired   bool
}

// Invite modes: what the invitation page asks of the visitor.
const (
	InviteAccept    = "accept"     // logged in as the invitee: one button
	InviteNewUser   = "new"        // no account yet: choose a password
	InviteLogIn     = "login"      // has an account, not logged in
	InviteOtherUser = "other_user" // logged in as someone else
	InviteInvalid   = "invalid"    // unknown, used or expired link
)

// InvitePage is what an invitation link opens.
type InvitePage struct {
	Mode       string
	TenantName string
	Role       string
	Email      string // the invitee
	InvitedBy  string
	Viewer     string // the logged-in user's email, for InviteOtherUser
	Action     string
	CSRF       string
	Token      string
	Password   Field
	LoginURL   string // with next= back to the invitation
}

// DevMail is the dev mailbox page.
type DevMail struct {
	Messages []DevMessage
}

// DevMessage is one caught message; links in its body are clickable.
type DevMessage struct {
	ID      string
	To      string
	Subject string
	Sent    string
	Lines   []DevLine
}

// DevLine is one line of a message body, or a link.
type DevLine struct {
	Text string
	URL  string // set when the whole line is a link
}
