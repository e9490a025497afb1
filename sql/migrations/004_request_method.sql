-- How a document was requested: GET, or POST for list pages of sites that answer only POST (Hanweb's
-- jpage dataproxy.jsp, its form fields being the URL's non-paging parameters). crawl_state.method lets
-- the next night POST such a page at once instead of learning it again from a 405.
ALTER TABLE crawl_state ADD COLUMN method VARCHAR DEFAULT 'GET';
ALTER TABLE documents ADD COLUMN method VARCHAR DEFAULT 'GET';
