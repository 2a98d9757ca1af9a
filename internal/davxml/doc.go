// Package davxml holds the WebDAV XML primitives that every davshare handler
// shares: reading a request body safely, parsing PROPFIND and PROPPATCH bodies
// (RFC 4918 §14.20, §14.19), and streaming a 207 Multi-Status response
// (RFC 4918 §13) or a DAV:error body (RFC 4918 §16).
//
// x/net/webdav keeps its XML code in an internal fork that we cannot import
// (pitfall H.36), so these are ours.
//
// Security boundaries: every body is read through ReadBody, which caps its size
// and refuses DTDs (RFC 4918 §20.6, "no-external-entities"), and the parsers
// cap element nesting, so a hostile document costs bounded memory.
//
// Output conventions follow x/net/webdav (pitfall H.38): elements in the DAV:
// namespace carry the "D:" prefix, which the Windows Mini-Redirector needs;
// any other namespace is declared inline on the element that uses it.
package davxml
