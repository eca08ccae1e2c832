// Package bulk reads and writes the newline-delimited JSON format of Azure
// Digital Twins import jobs, so a graph exported from ADT imports into
// Lodestone and back:
//
//	{"Section": "Header"}
//	{"fileVersion": "1.0.0", "author": "…", "organization": "…"}
//	{"Section": "Models"}
//	{"@id": "dtmi:example:Mine;1", "@type": "Interface", …}
//	{"Section": "Twins"}
//	{"$dtId": "mine-1", "$metadata": {"$model": "dtmi:example:Mine;1"}, …}
//	{"Section": "Relationships"}
//	{"$dtId": "mine-1", "$relationshipId": "r1", "$targetId": "plant-1", "$relationshipName": "feeds", …}
//
// Sections come in that order and each at most once; the Header section is
// optional. In the Relationships section the source twin is "$dtId" (ADT's
// import form) or "$sourceId" (its API form). A [Reader] streams items one
// line at a time, so a file of millions of twins never sits in memory whole;
// every error names its line.
package bulk
