/** Container health check: exits 0 when Ping answers at ECHO_GRPC_ADDR within 2 s, else 1. */
import * as grpc from '@grpc/grpc-js';
import { echoGrpc } from '@authmesh/proto';

const addr = (process.env.ECHO_GRPC_ADDR || '127.0.0.1:50061').replace(/^0\.0\.0\.0:/, '127.0.0.1:');
const client = new (echoGrpc().echo.v1.Echo)(addr, grpc.credentials.createInsecure());
client.Ping({ message: 'health' }, { deadline: Date.now() + 2000 }, (err) => {
  client.close();
  process.exit(err ? 1 : 0);
});
