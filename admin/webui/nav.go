package webui

// navItem is one entry of a section's navigation.
type navItem struct{ Key, Label, Href string }

// The pages of each section, in menu order. A page is listed here only
// once it works.
var (
	orgNav = []navItem{
		{"home", "Home", "/admin"},
		{"users", "Users", "/admin/users"},
		{"timeframes", "Time Frames", "/admin/timeframes"},
		{"music", "Music on Hold", "/admin/music"},
		{"calls", "Call History", "/admin/calls"},
		{"phone", "Webphone", "/admin/phone"},
		{"console", "Attendant Console", "/admin/console"},
		{"prefs", "Account Preferences", "/admin/preferences"},
	}
	meNav = []navItem{
		{"home", "Home", "/me"},
		{"messages", "Messages", "/me/messages"},
		{"contacts", "Contacts", "/me/contacts"},
		{"rules", "Answering Rules", "/me/rules"},
		{"timeframes", "Time Frames", "/me/timeframes"},
		{"phone", "Webphone", "/me/phone"},
		{"console", "Attendant Console", "/me/console"},
		{"phones", "Phones", "/me/phones"},
		{"calls", "Call History", "/me/calls"},
		{"password", "Change Password", "/me/password"},
	}
)

func navItems(section string) []navItem {
	if section == "org" {
		return orgNav
	}
	return meNav
}
