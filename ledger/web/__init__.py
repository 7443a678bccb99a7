"""Server-rendered pages for artists, admins and the public: a thin interface over the services."""
