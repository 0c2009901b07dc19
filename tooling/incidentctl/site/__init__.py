"""The public status site: pages, a Statuspage-compatible JSON API, Atom feeds and badges.

`status` computes what may be published (pure), `markup` renders and sanitizes markdown,
`api` and `feeds` serialize data (JSON, XML), `pages` renders the Jinja2 pages, `build`
runs one scan and writes the folder, `serve` previews it on 127.0.0.1.
"""
