"""Getting bytes in: crawling portals, archiving raw documents, reading documents into blocks."""
