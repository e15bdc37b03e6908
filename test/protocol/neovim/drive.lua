-- Drives Portolan's language server from a real headless Neovim 0.7 (test/protocol/neovim.test.ts).
-- Started as `nvim --headless --clean -u NONE -n -c 'luafile drive.lua' etc/ssh/sshd_config` with:
--   PORTOLAN_NODE, PORTOLAN_SERVER  the command that starts the server (node, server/out/server.js)
--   PORTOLAN_ROOT                   the workspace (root_dir)
--   PORTOLAN_OUT                    where to write what Neovim saw, as JSON
-- The JSON is rewritten after every step, so a run cut short still tells how far it got.
-- 0.7 has no vim.lsp.start: start_client + buf_attach_client.

local out_path = assert(os.getenv('PORTOLAN_OUT'), 'PORTOLAN_OUT')
local result = { steps = {}, published = {}, publishCount = 0 }

local function save()
  local f = assert(io.open(out_path, 'w'))
  f:write(vim.json.encode(result))
  f:close()
end

local function step(name)
  table.insert(result.steps, name)
  save()
end

-- Every publishDiagnostics, for every uri, including files Neovim never opened; then Neovim's own handler.
local on_publish = vim.lsp.handlers['textDocument/publishDiagnostics']
vim.lsp.handlers['textDocument/publishDiagnostics'] = function(err, params, ctx, config)
  result.publishCount = result.publishCount + 1
  result.published[params.uri] = params.diagnostics
  return on_publish(err, params, ctx, config)
end

local function codes_of(uri)
  local codes = {}
  for _, d in ipairs(result.published[uri] or {}) do table.insert(codes, d.code) end
  return codes
end

local function has_code(uri, code)
  return vim.tbl_contains(codes_of(uri), code)
end

-- What vim.diagnostic holds for a buffer (0-based lnum/col, byte columns), as a user's UI would show it.
local function neovim_diagnostics(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    table.insert(list, { code = d.code, severity = d.severity, source = d.source, lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col, message = d.message })
  end
  return list
end

local function hover(bufnr, line, character)
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = { line = line, character = character } }
  local responses, err = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', params, 5000)
  if not responses then return { error = tostring(err) } end
  for _, response in pairs(responses) do
    if response.err then return { error = vim.inspect(response.err) } end
    return response.result == nil and vim.NIL or response.result
  end
  return { error = 'no client answered' }
end

local function run()
  local root = assert(os.getenv('PORTOLAN_ROOT'), 'PORTOLAN_ROOT')
  local bufnr = vim.api.nvim_get_current_buf()
  local uri = vim.uri_from_bufnr(bufnr)
  result.uri = uri
  result.bufferName = vim.api.nvim_buf_get_name(bufnr)
  result.lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)

  local client_id = vim.lsp.start_client({
    name = 'portolan',
    cmd = { assert(os.getenv('PORTOLAN_NODE')), assert(os.getenv('PORTOLAN_SERVER')), '--stdio' },
    root_dir = root,
  })
  assert(client_id, 'start_client returned nil')
  result.attached = vim.lsp.buf_attach_client(bufnr, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  result.serverPid = client.rpc.pid
  step('started')

  local compose = vim.uri_from_fname(root .. '/compose.yaml')
  local nginx = vim.uri_from_fname(root .. '/etc/nginx/nginx.conf')
  result.initialized = vim.wait(5000, function() return client.initialized == true end, 20)
  result.serverCapabilities = client.server_capabilities
  result.waitedForDiagnostics = vim.wait(8000, function()
    return has_code(uri, 'invalid-port') and has_code(compose, 'port-conflict') and has_code(nginx, 'port-conflict')
  end, 20)
  result.before = {
    published = vim.deepcopy(result.published),
    buffer = neovim_diagnostics(bufnr),
    -- on_publish_diagnostics gives unopened files an unloaded buffer of their own
    compose = neovim_diagnostics(vim.uri_to_bufnr(compose)),
    composeLoaded = vim.api.nvim_buf_is_loaded(vim.uri_to_bufnr(compose)),
  }
  step('diagnostics')

  result.hover = hover(bufnr, 1, 7) -- inside 50022 on `Port 50022`
  step('hover')

  -- Neovim sends the edit as an incremental didChange (the server asks for Incremental sync).
  vim.api.nvim_buf_set_lines(bufnr, 0, 1, false, { 'Port 2222' })
  result.waitedForEdit = vim.wait(5000, function()
    return result.published[uri] ~= nil and not has_code(uri, 'invalid-port')
  end, 20)
  result.after = { published = vim.deepcopy(result.published), buffer = neovim_diagnostics(bufnr) }
  -- The server's copy of the text after the edit: a hover on the new port.
  result.hoverAfterEdit = hover(bufnr, 0, 6)
  step('edited')
end

local ok, err = xpcall(run, debug.traceback)
if not ok then result.error = tostring(err) end
step('done')
-- VimLeavePre stops the client (shutdown + exit, then SIGTERM after 500 ms).
vim.cmd(ok and 'qa!' or 'cquit! 1')
