package notify

import "net/url"

// URL layout (architecture "URL space"). The router owns routing; these
// build the hrefs that responses and notification documents carry.
const (
	collectionsPrefix = "/dav/notifications/"
	principalsPrefix  = "/dav/principals/"
)

func collectionPath(user string) string { return collectionsPrefix + user + "/" }
func memberPath(user, name string) string {
	return collectionPath(user) + name
}
func principalPath(user string) string { return principalsPrefix + user + "/" }

// escapePath percent-encodes a slash-separated path for use as a URI.
func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

// CollectionURL is the absolute path of user's notification collection,
// percent-encoded: the value of the principal's DAV:notification-URL.
func CollectionURL(user string) string { return escapePath(collectionPath(user)) }

// MemberURL is the absolute path of one notification, percent-encoded. The
// sharing package uses it as DAV:reply-url of an invite (spec §5.1: the
// reply is POSTed to the notification itself).
func MemberURL(user, name string) string { return escapePath(memberPath(user, name)) }

// PrincipalURL is the absolute path of user's principal, percent-encoded.
func PrincipalURL(user string) string { return escapePath(principalPath(user)) }
