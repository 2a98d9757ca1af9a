package notify

import "encoding/xml"

// sampleInvite is the invitation of spec §5.1.
func sampleInvite() *ShareInvite {
	return &ShareInvite{
		Principal:         Principal{Href: "/principals/users/alice/", Prop: &Props{DisplayName: "Alice Adams"}},
		Status:            InviteNoResponse,
		SharerResourceURI: "urn:uuid:0c7f2a8e-5b1d-4e59-9a3e-2f6b1d9c4a10",
		Access:            AccessRead,
		Prop: &Props{
			DisplayName:  "Apollo",
			ResourceType: []xml.Name{{Space: nsDAV, Local: "collection"}},
		},
		ReplyURL: "/dav/notifications/bob/share-41-bob.xml",
		Comment:  "Apollo design docs",
	}
}
