# Reports what a shop's checkout does wrong, the way a Python service would.
import sys, sentry_sdk
from sentry_sdk import add_breadcrumb, capture_exception, capture_message, start_transaction
dsn = sys.argv[1]
sentry_sdk.init(dsn=dsn, release="shop@2.4.1", environment="production",
                traces_sample_rate=1.0, send_default_pii=False, server_name="shop-1")
sentry_sdk.set_tag("feature", "checkout")
sentry_sdk.set_user({"id": "u-4711"})

class CheckoutError(Exception):
    pass

def lookup(items, sku):
    # A local the SDK sends as it is (its own list matches whole names only)
    # and Leitstand must not keep; its value is made at run time, so the
    # source lines sent with the frame do not hold it either.
    db_password = "-".join(["s3cr3t", str(6 * 7)])
    return items[sku]

def checkout(items):
    try:
        lookup(items, "sku-42")
    except KeyError as e:
        raise CheckoutError("could not check out the cart") from e

add_breadcrumb(category="http", message="GET /cart", level="info", data={"status_code": 200})
add_breadcrumb(category="query", message="select * from carts where id = 7")
with start_transaction(op="http.server", name="POST /checkout"):
    try:
        checkout({})
    except CheckoutError:
        capture_exception()
capture_message("inventory sync took 41 s", level="warning")
with sentry_sdk.new_scope() as scope:
    scope.add_attachment(bytes=b"order,qty\n7,1\n", filename="cart.csv", content_type="text/csv")
    capture_message("cart export attached", level="info")
sentry_sdk.flush(5)
