package webui

// navItem is one entry of a section's navigation.
type navItem struct{ Key, Label, Href string }

// The pages of each section, in menu order. A page is listed here only
// once it works.
var (
	orgNav = []navItem{
		{"users", "Users", "/admin/users"},
		{"calls", "Call History", "/admin/calls"},
	}
	meNav = []navItem{
		{"password", "Change Password", "/me/password"},
	}
)

func navItems(section string) []navItem {
	if section == "org" {
		return orgNav
	}
	return meNav
}
