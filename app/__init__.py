"""The reviewer web app (`cbm app`): a Streamlit multipage app over the review store.

`store` holds the data (SQL), `render` makes untrusted text safe to show, `views/` are the
views (queue, decision, import, model), `launch` starts the server.
"""
